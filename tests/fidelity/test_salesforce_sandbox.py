"""Fidelity of the Salesforce sandbox to the REST API v60.0 (vendor-apis.md §1), over raw HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from sandboxes.firm import Firm
from sandboxes.salesforce import (
    INTEGRATION_USERNAME,
    SALESFORCE_CLIENT_ID,
    SALESFORCE_CLIENT_SECRET,
    SALESFORCE_PASSWORD,
    create_app,
)
from sandboxes.salesforce.ids import to_18
from sandboxes.salesforce.serialize import dumps
from tests.support import FakeWallClock
from tests.support import decimal_json as body

BASE = "http://sf.test"
API = "/services/data/v60.0"
TOKEN_FORM = {
    "grant_type": "client_credentials",
    "client_id": SALESFORCE_CLIENT_ID,
    "client_secret": SALESFORCE_CLIENT_SECRET,
}
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
ID18 = re.compile(r"^[a-zA-Z0-9]{15}[A-Z0-5]{3}$")
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
MISSING_ID = to_18("0065j00000ZZZZZ")  # well-formed, never minted
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


@pytest.fixture
def clock() -> FakeWallClock:
    return FakeWallClock()


@pytest.fixture
def app(firm: Firm, clock: FakeWallClock) -> Starlette:
    return create_app(firm, clock=clock)


@pytest.fixture
async def raw(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


@pytest.fixture
async def sf(raw: httpx.AsyncClient) -> httpx.AsyncClient:
    token = (await raw.post("/services/oauth2/token", data=TOKEN_FORM)).json()["access_token"]
    raw.headers["Authorization"] = f"Bearer {token}"
    return raw


async def query(sf: httpx.AsyncClient, soql: str, **headers: str) -> Any:
    response = await sf.get(f"{API}/query", params={"q": soql}, headers=headers)
    assert response.status_code == 200, response.text
    return body(response)


async def opportunity_id(sf: httpx.AsyncClient, engagement_key: str) -> str:
    found = await query(
        sf, f"SELECT Id FROM Opportunity WHERE Engagement_Key__c = '{engagement_key}'"
    )
    assert found["totalSize"] == 1
    return str(found["records"][0]["Id"])


def new_opportunity(**overrides: Any) -> dict[str, Any]:
    return {"Name": "Fidelity deal", "StageName": "Prospecting", "CloseDate": "2026-12-31",
            **overrides}  # fmt: skip


# -- OAuth ----------------------------------------------------------------------------------


async def test_client_credentials_grant_returns_a_token_for_this_instance(
    raw: httpx.AsyncClient,
) -> None:
    response = await raw.post("/services/oauth2/token", data=TOKEN_FORM)
    assert response.status_code == 200
    token = response.json()
    assert set(token) == {
        "access_token", "instance_url", "id", "token_type", "issued_at", "signature"
    }  # fmt: skip
    assert token["instance_url"] == BASE
    assert token["token_type"] == "Bearer"
    assert token["access_token"].startswith("00D")
    assert token["issued_at"].isdigit()
    assert token["id"].startswith(f"{BASE}/id/00D")


async def test_password_grant_logs_in_a_known_user(raw: httpx.AsyncClient) -> None:
    form = {**TOKEN_FORM, "grant_type": "password", "username": INTEGRATION_USERNAME}
    ok = await raw.post("/services/oauth2/token", data={**form, "password": SALESFORCE_PASSWORD})
    bad = await raw.post("/services/oauth2/token", data={**form, "password": "guess"})
    assert ok.status_code == 200 and ok.json()["access_token"]
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


async def test_bad_client_credentials_get_the_oauth_error_shape(raw: httpx.AsyncClient) -> None:
    response = await raw.post(
        "/services/oauth2/token", data={**TOKEN_FORM, "client_secret": "wrong"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "invalid client credentials",
    }


async def test_unknown_grant_type_is_unsupported(raw: httpx.AsyncClient) -> None:
    response = await raw.post(
        "/services/oauth2/token", data={**TOKEN_FORM, "grant_type": "authorization_code"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("header", [None, "Bearer 00Dnot-a-token", "Basic abc"])
async def test_api_calls_without_a_live_session_get_401_invalid_session(
    raw: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = await raw.get(f"{API}/limits", headers=headers)
    assert response.status_code == 401
    assert body(response) == INVALID_SESSION


async def test_tokens_expire_after_their_ttl(sf: httpx.AsyncClient, clock: FakeWallClock) -> None:
    assert (await sf.get(f"{API}/limits")).status_code == 200
    clock.advance(hours=2, seconds=1)
    response = await sf.get(f"{API}/limits")
    assert response.status_code == 401
    assert body(response) == INVALID_SESSION


# -- SOQL query shapes ------------------------------------------------------------------------


async def test_query_returns_only_selected_fields_with_attributes(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    opp = firm.opportunities[0]
    result = await query(
        sf,
        "SELECT Id, Name, StageName, IsWon, Amount, CloseDate, Engagement_Key__c, SystemModstamp "
        f"FROM Opportunity WHERE Engagement_Key__c = '{opp.engagement_key}'",
    )
    assert (result["totalSize"], result["done"]) == (1, True)
    assert "nextRecordsUrl" not in result
    record = result["records"][0]
    assert list(record) == [
        "attributes", "Id", "Name", "StageName", "IsWon", "Amount", "CloseDate",
        "Engagement_Key__c", "SystemModstamp",
    ]  # fmt: skip
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": f"{API}/sobjects/Opportunity/{record['Id']}",
    }
    assert ID18.match(record["Id"]) and record["Id"].startswith("006")
    assert (record["Name"], record["StageName"]) == (opp.name, opp.stage)
    assert record["IsWon"] is (opp.stage == "Closed Won")
    assert record["Amount"] == opp.amount
    assert record["CloseDate"] == opp.close_date.isoformat()
    assert DATETIME.match(record["SystemModstamp"])


async def test_money_is_a_json_number_with_exact_decimal_text(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    opp = firm.opportunities[0]
    response = await sf.get(
        f"{API}/query",
        params={
            "q": "SELECT Amount, Invoiced_Amount__c FROM Opportunity "
            f"WHERE Engagement_Key__c = '{opp.engagement_key}'"
        },
    )
    assert f'"Amount":{opp.amount}' in response.text
    assert f'"Invoiced_Amount__c":{opp.invoiced_amount}' in response.text


async def test_relationship_fields_come_back_nested_or_null(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    opp = firm.opportunities[0]
    customer = next(c for c in firm.customers if c.key == opp.customer)
    created = body(await sf.post(f"{API}/sobjects/Opportunity", json=new_opportunity()))
    result = await query(
        sf,
        "SELECT Id, Account.Name, Account.Customer_Key__c, Owner.Email FROM Opportunity "
        f"WHERE Engagement_Key__c = '{opp.engagement_key}' OR Id = '{created['id']}' "
        "ORDER BY CreatedDate",
    )
    seeded, orphan = result["records"]
    assert seeded["Account"]["attributes"]["type"] == "Account"
    assert seeded["Account"]["Name"] == customer.name
    assert seeded["Account"]["Customer_Key__c"] == customer.key
    assert seeded["Owner"]["Email"] == opp.owner
    assert orphan["Account"] is None
    assert orphan["Owner"]["Email"] == INTEGRATION_USERNAME


async def test_where_in_on_ids_and_engagement_keys(sf: httpx.AsyncClient, firm: Firm) -> None:
    keys = [o.engagement_key for o in firm.opportunities[:3]]
    by_key = await query(
        sf,
        "SELECT Id, Engagement_Key__c FROM Opportunity WHERE Engagement_Key__c IN "
        f"({', '.join(repr(k) for k in keys)})",
    )
    assert sorted(r["Engagement_Key__c"] for r in by_key["records"]) == sorted(keys)
    ids = [r["Id"] for r in by_key["records"]]
    short = ", ".join(f"'{i[:15]}'" for i in ids)  # 15-char ids match too
    by_id = await query(sf, f"SELECT Id FROM Opportunity WHERE Id IN ({short})")
    assert sorted(r["Id"] for r in by_id["records"]) == sorted(ids)


async def test_filters_order_limit_offset_and_count(sf: httpx.AsyncClient, firm: Firm) -> None:
    won = [o for o in firm.opportunities if o.stage == "Closed Won"]
    counted = await query(sf, "SELECT COUNT() FROM Opportunity WHERE IsWon = true")
    assert counted == {"totalSize": len(won), "done": True, "records": []}
    big = sorted((o.amount for o in won), reverse=True)
    top = await query(
        sf,
        "SELECT Amount FROM Opportunity WHERE StageName = 'Closed Won' AND Amount > 0 "
        "ORDER BY Amount DESC LIMIT 3 OFFSET 1",
    )
    assert [r["Amount"] for r in top["records"]] == big[1:4]
    cutoff = firm.as_of.replace(month=1, day=1)
    recent = await query(
        sf,
        f"SELECT COUNT() FROM Opportunity WHERE CloseDate >= {cutoff.isoformat()} "
        "AND (NOT StageName LIKE 'closed%')",
    )
    expected = [
        o for o in firm.opportunities
        if o.close_date >= cutoff and not o.stage.lower().startswith("closed")
    ]  # fmt: skip
    assert recent["totalSize"] == len(expected)


async def test_datetime_filters_select_records_changed_since_a_watermark(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[0].engagement_key)
    marker = "2026-11-01T00:00:00Z"  # after every seeded stamp, before the fake clock
    before = await query(sf, f"SELECT Id FROM Opportunity WHERE SystemModstamp > {marker}")
    await sf.patch(f"{API}/sobjects/Opportunity/{opp_id}", json={"Description": "touched"})
    after = await query(sf, f"SELECT Id FROM Opportunity WHERE SystemModstamp > {marker}")
    assert before["totalSize"] == 0
    assert [r["Id"] for r in after["records"]] == [opp_id]


# -- paging -----------------------------------------------------------------------------------


async def test_default_page_holds_up_to_2000_records(sf: httpx.AsyncClient, firm: Firm) -> None:
    result = await query(sf, "SELECT Id FROM Opportunity")
    assert result["done"] is True
    assert result["totalSize"] == len(result["records"]) == len(firm.opportunities)


async def test_batch_size_hint_pages_through_next_records_url(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    total = len(firm.opportunities)
    assert total > 200, "the seeded firm must span two pages of 200"
    first = await query(
        sf, "SELECT Id FROM Opportunity", **{"Sforce-Query-Options": "batchSize=200"}
    )
    assert (first["totalSize"], first["done"], len(first["records"])) == (total, False, 200)
    assert re.match(rf"^{API}/query/01g[a-zA-Z0-9]{{15}}-200$", first["nextRecordsUrl"])
    second = body(await sf.get(first["nextRecordsUrl"]))
    assert (second["totalSize"], second["done"]) == (total, True)
    assert "nextRecordsUrl" not in second
    ids = [r["Id"] for r in first["records"] + second["records"]]
    assert len(ids) == len(set(ids)) == total


async def test_batch_size_hint_is_clamped_to_200(sf: httpx.AsyncClient) -> None:
    page = await query(sf, "SELECT Id FROM Opportunity", **{"Sforce-Query-Options": "batchSize=5"})
    assert len(page["records"]) == 200


async def test_unknown_or_stale_locators_are_invalid(
    sf: httpx.AsyncClient, clock: FakeWallClock
) -> None:
    first = await query(
        sf, "SELECT Id FROM Opportunity", **{"Sforce-Query-Options": "batchSize=200"}
    )
    unknown = await sf.get(f"{API}/query/01g5j00000ZZZZZAAA-200")
    assert unknown.status_code == 400
    assert body(unknown) == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]
    clock.advance(minutes=16)
    stale = await sf.get(first["nextRecordsUrl"])
    assert stale.status_code == 400
    assert body(stale)[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


# -- query errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("soql", "code", "detail"),
    [
        ("SELECT Id FRM Opportunity", "MALFORMED_QUERY", "unexpected token: 'FRM'"),
        ("SELECT Id, Colour FROM Opportunity", "INVALID_FIELD", "No such column 'Colour'"),
        ("SELECT Id FROM Invoice", "INVALID_TYPE", "sObject type 'Invoice' is not supported"),
        (
            "SELECT Id FROM Opportunity WHERE CloseDate = '2026-01-01'",
            "INVALID_FIELD",
            "must be of type date and should not be enclosed in quotes",
        ),
        ("SELECT Id FROM Opportunity WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR", "abc"),
    ],
)
async def test_bad_queries_answer_400_in_the_error_array_shape(
    sf: httpx.AsyncClient, soql: str, code: str, detail: str
) -> None:
    response = await sf.get(f"{API}/query", params={"q": soql})
    assert response.status_code == 400
    [error] = body(response)
    assert set(error) == {"message", "errorCode"}
    assert error["errorCode"] == code
    assert detail in error["message"]
    assert "ERROR at Row:1:Column:" in error["message"]


async def test_query_without_q_is_malformed(sf: httpx.AsyncClient) -> None:
    response = await sf.get(f"{API}/query")
    assert response.status_code == 400
    assert body(response)[0]["errorCode"] == "MALFORMED_QUERY"


async def test_query_all_includes_deleted_records(sf: httpx.AsyncClient, firm: Firm) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[1].engagement_key)
    assert (await sf.delete(f"{API}/sobjects/Opportunity/{opp_id}")).status_code == 204
    soql = f"SELECT Id, IsDeleted FROM Opportunity WHERE Id = '{opp_id}'"
    live = await query(sf, soql)
    everything = body(await sf.get(f"{API}/queryAll", params={"q": soql}))
    assert live["totalSize"] == 0
    assert everything["records"][0]["IsDeleted"] is True


# -- sObject rows -----------------------------------------------------------------------------


async def test_get_record_returns_every_field_or_the_requested_ones(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    opp = firm.opportunities[0]
    opp_id = await opportunity_id(sf, opp.engagement_key)
    full = body(await sf.get(f"{API}/sobjects/Opportunity/{opp_id}"))
    for name in ("Id", "AccountId", "StageName", "IsWon", "IsClosed", "Probability",
                 "CurrencyIsoCode", "OwnerId", "LastModifiedDate", "SystemModstamp", "IsDeleted",
                 "Engagement_Key__c", "Billing_Model__c", "Service_Line__c", "Legal_Entity__c",
                 "Rate_Card_Version__c", "Invoiced_Amount__c"):  # fmt: skip
        assert name in full
    assert full["Engagement_Key__c"] == opp.engagement_key
    assert full["Invoiced_Amount__c"] == opp.invoiced_amount
    some = body(
        await sf.get(f"{API}/sobjects/Opportunity/{opp_id}", params={"fields": "Id,Amount"})
    )
    assert list(some) == ["attributes", "Id", "Amount"]


async def test_unknown_ids_and_types_get_404_not_found(sf: httpx.AsyncClient) -> None:
    missing = await sf.get(f"{API}/sobjects/Opportunity/{MISSING_ID}")
    no_type = await sf.get(f"{API}/sobjects/Invoice/{MISSING_ID}")
    patch = await sf.patch(f"{API}/sobjects/Opportunity/{MISSING_ID}", json={"Name": "x"})
    for response in (missing, no_type, patch):
        assert response.status_code == 404
        assert body(response) == NOT_FOUND


async def test_unknown_field_in_fields_param_is_invalid_field(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[0].engagement_key)
    response = await sf.get(f"{API}/sobjects/Opportunity/{opp_id}", params={"fields": "Id,Colour"})
    assert response.status_code == 400
    assert body(response)[0]["errorCode"] == "INVALID_FIELD"


async def test_create_answers_201_with_id_success_errors(sf: httpx.AsyncClient) -> None:
    response = await sf.post(
        f"{API}/sobjects/Opportunity", json=new_opportunity(Amount=Decimal("1234.56").__str__())
    )
    assert response.status_code == 201
    created = body(response)
    assert set(created) == {"id", "success", "errors"}
    assert created["success"] is True and created["errors"] == []
    assert ID18.match(created["id"]) and created["id"].startswith("006")
    record = body(await sf.get(f"{API}/sobjects/Opportunity/{created['id']}"))
    assert record["Amount"] == Decimal("1234.56")
    assert (record["IsWon"], record["IsClosed"], record["Probability"]) == (False, False, 10)
    assert record["CreatedDate"] == record["SystemModstamp"]


async def test_create_without_required_fields_is_refused(sf: httpx.AsyncClient) -> None:
    response = await sf.post(f"{API}/sobjects/Opportunity", json={"Name": "No stage"})
    assert response.status_code == 400
    assert body(response) == [
        {
            "message": "Required fields are missing: [StageName, CloseDate]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["StageName", "CloseDate"],
        }
    ]


async def test_patch_answers_204_and_advances_the_modstamps(
    sf: httpx.AsyncClient, firm: Firm, clock: FakeWallClock
) -> None:
    opp = next(o for o in firm.opportunities if o.stage == "Negotiation/Review")
    opp_id = await opportunity_id(sf, opp.engagement_key)
    before = body(await sf.get(f"{API}/sobjects/Opportunity/{opp_id}"))
    clock.advance(seconds=5)
    response = await sf.patch(
        f"{API}/sobjects/Opportunity/{opp_id}",
        content=b'{"StageName": "Closed Won", "Invoiced_Amount__c": 10.10}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 204 and response.content == b""
    after = body(await sf.get(f"{API}/sobjects/Opportunity/{opp_id}"))
    assert (after["IsWon"], after["IsClosed"], after["Probability"]) == (True, True, 100)
    assert after["Invoiced_Amount__c"] == Decimal("10.10")
    assert after["SystemModstamp"] > before["SystemModstamp"]
    assert after["LastModifiedDate"] == after["SystemModstamp"] == "2026-11-02T09:00:05.000+0000"


async def test_every_write_gets_a_strictly_later_modstamp(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[0].engagement_key)
    stamps = []
    for n in range(3):  # the fake clock stands still: stamps still move forward
        await sf.patch(f"{API}/sobjects/Opportunity/{opp_id}", json={"Description": f"v{n}"})
        stamps.append(body(await sf.get(f"{API}/sobjects/Opportunity/{opp_id}"))["SystemModstamp"])
    assert stamps == sorted(set(stamps))


@pytest.mark.parametrize(
    ("payload", "code", "fields"),
    [
        ({"IsWon": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsWon"]),
        ({"IsClosed": False, "SystemModstamp": "2026-01-01T00:00:00Z"},
         "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsClosed", "SystemModstamp"]),
        ({"Colour": "red"}, "INVALID_FIELD", None),
        ({"Amount": "lots"}, "JSON_PARSER_ERROR", None),
        ({"Amount": True}, "JSON_PARSER_ERROR", None),
        ({"CloseDate": "31/12/2026"}, "JSON_PARSER_ERROR", None),
        ({"StageName": "Won-ish"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["StageName"]),
        ({"Name": "x" * 121}, "STRING_TOO_LONG", ["Name"]),
        ({"Name": None}, "REQUIRED_FIELD_MISSING", ["Name"]),
        ({"AccountId": "not-an-id"}, "MALFORMED_ID", ["AccountId"]),
    ],
)  # fmt: skip
async def test_bad_write_bodies_are_refused_like_salesforce(
    sf: httpx.AsyncClient,
    firm: Firm,
    payload: dict[str, Any],
    code: str,
    fields: list[str] | None,
) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[0].engagement_key)
    response = await sf.patch(f"{API}/sobjects/Opportunity/{opp_id}", json=payload)
    assert response.status_code == 400
    [error] = body(response)
    assert error["errorCode"] == code
    assert error.get("fields") == fields
    assert error["message"]


async def test_malformed_json_is_a_parser_error(sf: httpx.AsyncClient) -> None:
    for content in (b'{"Name": ', b"", b"[1, 2]"):
        response = await sf.post(
            f"{API}/sobjects/Opportunity",
            content=content,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, content
        assert body(response)[0]["errorCode"] == "JSON_PARSER_ERROR"


async def test_unique_engagement_key_refuses_duplicates(sf: httpx.AsyncClient, firm: Firm) -> None:
    taken = firm.opportunities[0].engagement_key
    response = await sf.post(
        f"{API}/sobjects/Opportunity", json=new_opportunity(Engagement_Key__c=taken.lower())
    )
    assert response.status_code == 400
    [error] = body(response)
    assert error["errorCode"] == "DUPLICATE_VALUE"
    assert error["fields"] == ["Engagement_Key__c"]


async def test_writes_to_users_are_refused_with_insufficient_access(sf: httpx.AsyncClient) -> None:
    user = (await query(sf, "SELECT Id FROM User LIMIT 1"))["records"][0]["Id"]
    response = await sf.patch(f"{API}/sobjects/User/{user}", json={"FirstName": "Eve"})
    assert response.status_code == 403
    assert body(response)[0]["errorCode"] == "INSUFFICIENT_ACCESS"


async def test_conditional_requests_answer_304_and_412(sf: httpx.AsyncClient, firm: Firm) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[0].engagement_key)
    future = "Tue, 01 Dec 2026 00:00:00 GMT"
    past = "Thu, 01 Jan 2015 00:00:00 GMT"
    url = f"{API}/sobjects/Opportunity/{opp_id}"
    assert (await sf.get(url, headers={"If-Modified-Since": future})).status_code == 304
    assert (await sf.get(url, headers={"If-Modified-Since": past})).status_code == 200
    stale = await sf.patch(url, json={"Description": "x"}, headers={"If-Unmodified-Since": past})
    assert stale.status_code == 412
    assert body(stale)[0]["errorCode"] == "PRECONDITION_FAILED"


async def test_deleted_records_are_gone_and_listed_as_deleted(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[2].engagement_key)
    assert (await sf.delete(f"{API}/sobjects/Opportunity/{opp_id}")).status_code == 204
    gone = await sf.get(f"{API}/sobjects/Opportunity/{opp_id}")
    assert gone.status_code == 404
    assert body(gone)[0]["errorCode"] == "ENTITY_IS_DELETED"
    window = {"start": "2026-11-02T08:00:00+00:00", "end": "2026-11-02T10:00:00+00:00"}
    deleted = body(await sf.get(f"{API}/sobjects/Opportunity/deleted/", params=window))
    assert [d["id"] for d in deleted["deletedRecords"]] == [opp_id]
    assert DATETIME.match(deleted["deletedRecords"][0]["deletedDate"])


async def test_updated_lists_ids_changed_in_a_window(sf: httpx.AsyncClient, firm: Firm) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[0].engagement_key)
    await sf.patch(f"{API}/sobjects/Opportunity/{opp_id}", json={"Description": "changed"})
    window = {"start": "2026-11-02T08:00:00Z", "end": "2026-11-02T10:00:30Z"}
    updated = body(await sf.get(f"{API}/sobjects/Opportunity/updated/", params=window))
    assert updated == {"ids": [opp_id], "latestDateCovered": "2026-11-02T10:00:00.000+0000"}
    backwards = await sf.get(
        f"{API}/sobjects/Opportunity/updated/",
        params={"start": window["end"], "end": window["start"]},
    )
    assert backwards.status_code == 400
    assert body(backwards)[0]["errorCode"] == "INVALID_REPLICATION_DATE"


async def test_unsupported_methods_get_405_in_the_error_shape(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[0].engagement_key)
    response = await sf.put(f"{API}/sobjects/Opportunity/{opp_id}", json={})
    assert response.status_code == 405
    assert body(response)[0]["errorCode"] == "METHOD_NOT_ALLOWED"


# -- external ids and upsert -----------------------------------------------------------------


async def test_read_by_external_id(sf: httpx.AsyncClient, firm: Firm) -> None:
    opp = firm.opportunities[4]
    found = await sf.get(f"{API}/sobjects/Opportunity/Engagement_Key__c/{opp.engagement_key}")
    assert found.status_code == 200
    assert body(found)["Name"] == opp.name
    missing = await sf.get(f"{API}/sobjects/Opportunity/Engagement_Key__c/ENG-1999-00000")
    assert missing.status_code == 404 and body(missing) == NOT_FOUND
    not_external = await sf.get(f"{API}/sobjects/Opportunity/Name/{opp.name}")
    assert not_external.status_code == 404
    assert "Provided external ID field does not exist" in body(not_external)[0]["message"]


async def test_upsert_creates_then_updates_the_same_record(sf: httpx.AsyncClient) -> None:
    url = f"{API}/sobjects/Opportunity/Engagement_Key__c/ENG-2026-77777"
    first = await sf.patch(url, json=new_opportunity(Amount=130000))
    assert first.status_code == 201
    created = body(first)
    assert created == {"id": created["id"], "success": True, "errors": [], "created": True}
    second = await sf.patch(url, json={"StageName": "Closed Won", "Amount": 131000})
    assert second.status_code == 200
    assert body(second) == {"id": created["id"], "success": True, "errors": [], "created": False}
    count = await query(
        sf, "SELECT COUNT() FROM Opportunity WHERE Engagement_Key__c = 'ENG-2026-77777'"
    )
    assert count["totalSize"] == 1
    record = body(await sf.get(f"{API}/sobjects/Opportunity/{created['id']}"))
    assert (record["Amount"], record["IsWon"]) == (131000, True)


async def test_upsert_body_must_not_repeat_the_external_id(sf: httpx.AsyncClient) -> None:
    response = await sf.patch(
        f"{API}/sobjects/Opportunity/Engagement_Key__c/ENG-2026-77778",
        json=new_opportunity(Engagement_Key__c="ENG-2026-77778"),
    )
    assert response.status_code == 400
    assert body(response)[0]["errorCode"] == "INVALID_FIELD"


async def test_upsert_matching_several_records_answers_300(sf: httpx.AsyncClient) -> None:
    ids = []
    for name in ("Twin A", "Twin B"):  # Customer_Key__c is an external id but not unique
        created = await sf.post(
            f"{API}/sobjects/Account", json={"Name": name, "Customer_Key__c": "CUST-TWIN"}
        )
        ids.append(body(created)["id"])
    response = await sf.patch(
        f"{API}/sobjects/Account/Customer_Key__c/CUST-TWIN", json={"Industry": "Media"}
    )
    assert response.status_code == 300
    assert body(response) == [f"{API}/sobjects/Account/{i}" for i in ids]


# -- sObject Collections ----------------------------------------------------------------------


async def test_collection_retrieve_keeps_request_order_with_null_for_missing(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    a = await opportunity_id(sf, firm.opportunities[0].engagement_key)
    b = await opportunity_id(sf, firm.opportunities[1].engagement_key)
    missing = MISSING_ID
    response = await sf.post(
        f"{API}/composite/sobjects/Opportunity",
        json={"ids": [b, missing, a], "fields": ["Id", "StageName"]},
    )
    assert response.status_code == 200
    records = body(response)
    assert [r and r["Id"] for r in records] == [b, None, a]
    assert list(records[0]) == ["attributes", "Id", "StageName"]


async def test_collection_retrieve_refuses_more_than_2000_ids(sf: httpx.AsyncClient) -> None:
    response = await sf.post(
        f"{API}/composite/sobjects/Opportunity",
        json={"ids": [MISSING_ID] * 2001, "fields": ["Id"]},
    )
    assert response.status_code == 400
    assert body(response)[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


async def test_collection_create_reports_each_record_in_order(sf: httpx.AsyncClient) -> None:
    records = [
        {"attributes": {"type": "Opportunity"}, **new_opportunity(Name="Good")},
        {"attributes": {"type": "Opportunity"}, "Name": "Bad"},
    ]
    response = await sf.post(
        f"{API}/composite/sobjects", json={"allOrNone": False, "records": records}
    )
    good, bad = body(response)
    assert good["success"] is True and good["errors"] == [] and ID18.match(good["id"])
    assert bad["success"] is False
    assert bad["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert bad["errors"][0]["fields"] == ["StageName", "CloseDate"]


async def test_collection_all_or_none_rolls_everything_back(sf: httpx.AsyncClient) -> None:
    before = await query(sf, "SELECT COUNT() FROM Opportunity")
    records = [
        {"attributes": {"type": "Opportunity"}, **new_opportunity(Name="Would be created")},
        {"attributes": {"type": "Opportunity"}, **new_opportunity(StageName="Nope")},
    ]
    response = await sf.post(
        f"{API}/composite/sobjects", json={"allOrNone": True, "records": records}
    )
    first, second = body(response)
    assert first["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert second["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    after = await query(sf, "SELECT COUNT() FROM Opportunity")
    assert after["totalSize"] == before["totalSize"]


async def test_collection_writes_refuse_more_than_200_records(sf: httpx.AsyncClient) -> None:
    records = [{"attributes": {"type": "Opportunity"}, **new_opportunity()}] * 201
    response = await sf.post(f"{API}/composite/sobjects", json={"records": records})
    assert response.status_code == 400
    assert body(response)[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


async def test_collection_update_patches_each_record(sf: httpx.AsyncClient, firm: Firm) -> None:
    opp_id = await opportunity_id(sf, firm.opportunities[0].engagement_key)
    response = await sf.patch(
        f"{API}/composite/sobjects",
        json={"records": [
            {"attributes": {"type": "Opportunity"}, "Id": opp_id, "Description": "bulk"},
            {"attributes": {"type": "Opportunity"}, "Description": "no id"},
        ]},
    )  # fmt: skip
    updated, missing_id = body(response)
    assert updated == {"id": opp_id, "success": True, "errors": []}
    assert missing_id["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    record = body(
        await sf.get(f"{API}/sobjects/Opportunity/{opp_id}", params={"fields": "Description"})
    )
    assert record["Description"] == "bulk"


# -- Composite and Composite Batch ------------------------------------------------------------


async def test_composite_chains_subrequests_through_references(sf: httpx.AsyncClient) -> None:
    before = (await sf.get(f"{API}/limits")).headers["Sforce-Limit-Info"]
    response = await sf.post(
        f"{API}/composite",
        json={"allOrNone": True, "compositeRequest": [
            {"method": "POST", "url": f"{API}/sobjects/Account", "referenceId": "acct",
             "body": {"Name": "Composite Co", "Customer_Key__c": "CUST-COMP"}},
            {"method": "POST", "url": f"{API}/sobjects/Opportunity", "referenceId": "opp",
             "body": new_opportunity(AccountId="@{acct.id}")},
            {"method": "GET", "url": f"{API}/sobjects/Opportunity/@{{opp.id}}?fields=AccountId",
             "referenceId": "read"},
        ]},
    )  # fmt: skip
    assert response.status_code == 200
    acct, opp, read = body(response)["compositeResponse"]
    assert [r["referenceId"] for r in (acct, opp, read)] == ["acct", "opp", "read"]
    assert (acct["httpStatusCode"], opp["httpStatusCode"], read["httpStatusCode"]) == (
        201,
        201,
        200,
    )
    assert read["body"]["AccountId"] == acct["body"]["id"]
    used = response.headers["Sforce-Limit-Info"]
    assert int(used.split("=")[1].split("/")[0]) == int(before.split("=")[1].split("/")[0]) + 1


async def test_composite_all_or_none_rolls_back_every_write(sf: httpx.AsyncClient) -> None:
    count = "SELECT COUNT() FROM Account"
    before = (await query(sf, count))["totalSize"]
    response = await sf.post(
        f"{API}/composite",
        json={"allOrNone": True, "compositeRequest": [
            {"method": "POST", "url": f"{API}/sobjects/Account", "referenceId": "ok",
             "body": {"Name": "Rolled back"}},
            {"method": "POST", "url": f"{API}/sobjects/Account", "referenceId": "bad",
             "body": {"Colour": "red"}},
            {"method": "GET", "url": f"{API}/limits", "referenceId": "never"},
        ]},
    )  # fmt: skip
    ok, bad, never = body(response)["compositeResponse"]
    assert ok["httpStatusCode"] == 400 and ok["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert bad["body"][0]["errorCode"] == "INVALID_FIELD"
    assert never["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert (await query(sf, count))["totalSize"] == before


async def test_composite_enforces_its_subrequest_limits(sf: httpx.AsyncClient) -> None:
    limits = {"method": "GET", "url": f"{API}/limits"}
    too_many = [{**limits, "referenceId": f"r{n}"} for n in range(26)]
    queries = [
        {"method": "GET", "url": f"{API}/query?q=SELECT Id FROM Account", "referenceId": f"q{n}"}
        for n in range(6)
    ]
    for requests in (too_many, queries):
        response = await sf.post(f"{API}/composite", json={"compositeRequest": requests})
        assert response.status_code == 400
        assert body(response)[0]["errorCode"] == "LIMIT_EXCEEDED"
    batch = await sf.post(f"{API}/composite/batch", json={"batchRequests": [limits] * 26})
    assert batch.status_code == 400


async def test_composite_batch_runs_independent_subrequests(
    sf: httpx.AsyncClient, firm: Firm
) -> None:
    key = firm.opportunities[0].engagement_key
    requests = [
        {"method": "GET", "url": f"v60.0/sobjects/Opportunity/Engagement_Key__c/{key}"},
        {"method": "PATCH", "url": f"v60.0/sobjects/Opportunity/{MISSING_ID}",
         "richInput": {"Name": "x"}},
        {"method": "GET", "url": "v60.0/limits"},
    ]  # fmt: skip
    going_on = body(await sf.post(f"{API}/composite/batch", json={"batchRequests": requests}))
    assert going_on["hasErrors"] is True
    assert [r["statusCode"] for r in going_on["results"]] == [200, 404, 200]
    assert going_on["results"][0]["result"]["Engagement_Key__c"] == key
    halted = body(
        await sf.post(
            f"{API}/composite/batch", json={"haltOnError": True, "batchRequests": requests}
        )
    )
    assert [r["statusCode"] for r in halted["results"]] == [200, 404, 412]
    assert halted["results"][2]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"


# -- limits -----------------------------------------------------------------------------------


async def test_every_api_response_reports_usage(sf: httpx.AsyncClient) -> None:
    first = await sf.get(f"{API}/limits")
    second = await sf.get(f"{API}/query", params={"q": "SELECT Id FRM x"})
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/15000"
    limits = body(first)
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 14999}


async def test_over_the_daily_allocation_calls_get_403_request_limit_exceeded(firm: Firm) -> None:
    app = create_app(firm, daily_limit=2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as raw:
        token = (await raw.post("/services/oauth2/token", data=TOKEN_FORM)).json()["access_token"]
        raw.headers["Authorization"] = f"Bearer {token}"
        statuses = [(await raw.get(f"{API}/limits")).status_code for _ in range(2)]
        refused = await raw.get(f"{API}/limits")
    assert statuses == [200, 200]
    assert refused.status_code == 403
    assert body(refused) == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=2/2"
    assert "Retry-After" not in refused.headers


@asynccontextmanager
async def windowed_org(
    firm: Firm, clock: FakeWallClock, daily_limit: int = 15_000
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """An org on the fake clock whose token outlives the test's days of fake time."""
    app = create_app(firm, clock=clock, daily_limit=daily_limit, token_ttl_s=30 * 86_400)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        response = await client.post("/services/oauth2/token", data=TOKEN_FORM)
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield app, client


async def test_api_usage_counts_only_the_last_24_hours(firm: Firm, clock: FakeWallClock) -> None:
    async with windowed_org(firm, clock) as (_, sf):
        await sf.get(f"{API}/limits")
        await sf.get(f"{API}/limits")
        clock.advance(hours=12)
        midday = await sf.get(f"{API}/limits")
        clock.advance(hours=11, minutes=59)
        day_end = await sf.get(f"{API}/limits")  # the first two are 23 h 59 min old
        clock.advance(minutes=2)
        next_day = await sf.get(f"{API}/limits")  # ... and now over 24 h old
        clock.advance(hours=12)
        later = await sf.get(f"{API}/limits")
    assert midday.headers["Sforce-Limit-Info"] == "api-usage=3/15000"
    assert day_end.headers["Sforce-Limit-Info"] == "api-usage=4/15000"
    assert next_day.headers["Sforce-Limit-Info"] == "api-usage=3/15000"
    assert body(next_day)["DailyApiRequests"] == {"Max": 15000, "Remaining": 14997}
    assert later.headers["Sforce-Limit-Info"] == "api-usage=3/15000"  # midday call aged out


async def test_request_limit_exceeded_lifts_once_old_calls_age_out(
    firm: Firm, clock: FakeWallClock
) -> None:
    async with windowed_org(firm, clock, daily_limit=2) as (_, sf):
        await sf.get(f"{API}/limits")
        await sf.get(f"{API}/limits")
        refused_now = await sf.get(f"{API}/limits")
        clock.advance(hours=23, minutes=59)
        refused_later = await sf.get(f"{API}/limits")
        clock.advance(minutes=2)
        allowed = await sf.get(f"{API}/limits")
    for refused in (refused_now, refused_later):
        assert refused.status_code == 403
        assert body(refused)[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        assert refused.headers["Sforce-Limit-Info"] == "api-usage=2/2"
    assert allowed.status_code == 200
    assert allowed.headers["Sforce-Limit-Info"] == "api-usage=1/2"


async def test_usage_window_keeps_no_more_than_a_day_of_calls(
    firm: Firm, clock: FakeWallClock
) -> None:
    async with windowed_org(firm, clock) as (app, sf):
        for _ in range(3 * 48):  # three days, a call every half hour
            last = await sf.get(f"{API}/limits")
            clock.advance(minutes=30)
    assert last.headers["Sforce-Limit-Info"] == "api-usage=49/15000"
    assert app.state.org.usage.bucket_count() == 49


# -- control plane ----------------------------------------------------------------------------


async def test_calls_are_counted_per_endpoint(sf: httpx.AsyncClient) -> None:
    await sf.post("/__sandbox/calls/reset")
    await sf.get(f"{API}/limits")
    await sf.get(f"{API}/limits")
    await sf.get(f"{API}/query", params={"q": "SELECT Id FROM Account LIMIT 1"})
    calls = (await sf.get("/__sandbox/calls")).json()
    assert calls == {
        "total": 3,
        "by_endpoint": {f"GET {API}/limits": 2, f"GET {API}/query": 1},
    }


async def test_error_rate_gives_salesforce_server_errors(sf: httpx.AsyncClient) -> None:
    await sf.post("/__sandbox/faults", json={"error_rate": 1})
    seen = set()
    for _ in range(12):
        response = await sf.get(f"{API}/limits")
        [error] = body(response)
        seen.add((response.status_code, error["errorCode"]))
    assert seen <= {(500, "UNKNOWN_EXCEPTION"), (503, "SERVER_UNAVAILABLE")}
    assert len(seen) == 2


async def test_rate_limit_rate_gives_403_request_limit_exceeded_not_429(
    sf: httpx.AsyncClient,
) -> None:
    await sf.post("/__sandbox/faults", json={"rate_limit_rate": 1})
    response = await sf.get(f"{API}/limits")
    assert response.status_code == 403
    assert body(response) == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert "Retry-After" not in response.headers
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


async def test_reset_restores_the_seeded_state(sf: httpx.AsyncClient, firm: Firm) -> None:
    opp = firm.opportunities[0]
    opp_id = await opportunity_id(sf, opp.engagement_key)
    await sf.patch(f"{API}/sobjects/Opportunity/{opp_id}", json={"Amount": 1})
    created = body(await sf.post(f"{API}/sobjects/Opportunity", json=new_opportunity()))
    await sf.post("/__sandbox/faults", json={"error_rate": 1})
    assert (await sf.post("/__sandbox/reset")).json() == {"reset": True}
    record = body(await sf.get(f"{API}/sobjects/Opportunity/{opp_id}"))
    assert record["Amount"] == opp.amount
    assert (await sf.get(f"{API}/sobjects/Opportunity/{created['id']}")).status_code == 404
    recreated = body(await sf.post(f"{API}/sobjects/Opportunity", json=new_opportunity()))
    assert recreated["id"] == created["id"]  # id minting restarts deterministically


async def test_ids_are_deterministic_for_a_firm(firm: Firm) -> None:
    async def ids() -> list[str]:
        app = create_app(firm)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as raw:
            token = (await raw.post("/services/oauth2/token", data=TOKEN_FORM)).json()
            raw.headers["Authorization"] = f"Bearer {token['access_token']}"
            result = body(await raw.get(f"{API}/query", params={"q": "SELECT Id FROM Account"}))
        return [r["Id"] for r in result["records"]]

    first, second = await ids(), await ids()
    assert first == second and len(first) == len(firm.customers)
    assert all(ID18.match(i) and i.startswith("001") for i in first)


async def test_unknown_paths_get_the_vendor_404(raw: httpx.AsyncClient) -> None:
    response = await raw.get("/services/data/v12.0/sobjects")
    assert response.status_code == 404
    assert body(response) == NOT_FOUND


# -- any input gets a vendor answer, never a crash ------------------------------------------

_SOQL_WORDS = st.sampled_from(
    ["SELECT", "Id", "Name", "Amount", "Account.Name", "Owner.Email", "Account.Owner.Email",
     "COUNT()", "COUNT", ",", "FROM", "Opportunity", "Account", "User", "WHERE", "=", "!=", "<>",
     "<", ">=", "LIKE", "IN", "NOT", "AND", "OR", "(", ")", "'x'", "'a%'", "'\\'q'", "12", "-3.5",
     "2026-01-01", "2026-01-01T00:00:00Z", "2026-13-45", "true", "null", "ORDER", "BY", "DESC",
     "NULLS", "LAST", "LIMIT", "OFFSET", "99999999999999999999", "CloseDate", "IsWon",
     "SystemModstamp", "Engagement_Key__c", "Probability", "'0065j00000E0000AAB'", "!", "'"]
)  # fmt: skip
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["2026-01-01", "2026-01-01T10:00:00Z", "Closed Won", "0015j00000E0000AAB",
                       "1e400", "NaN", "12.5"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)  # fmt: skip
_FIELDS = st.sampled_from(
    ["Name", "StageName", "Amount", "CloseDate", "Probability", "AccountId", "OwnerId", "IsWon",
     "Engagement_Key__c", "Billing_Model__c", "Invoiced_Amount__c", "CurrencyIsoCode",
     "Description", "Id", "attributes", "Bogus__c"]
)  # fmt: skip


def _once(firm: Firm, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One authenticated request to a fresh sandbox, from synchronous (hypothesis) tests."""

    async def send() -> httpx.Response:
        app = create_app(firm)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as raw:
            token = (await raw.post("/services/oauth2/token", data=TOKEN_FORM)).json()
            raw.headers["Authorization"] = f"Bearer {token['access_token']}"
            return await raw.request(method, path, **kwargs)

    return asyncio.run(send())


def _assert_vendor_error(response: httpx.Response) -> None:
    [error] = body(response)
    assert isinstance(error["errorCode"], str) and isinstance(error["message"], str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(_SOQL_WORDS, max_size=14), noise=st.text(max_size=6))
def test_any_query_text_gets_a_vendor_answer(firm: Firm, words: list[str], noise: str) -> None:
    response = _once(firm, "GET", f"{API}/query", params={"q": " ".join(words) + noise})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        _assert_vendor_error(response)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=st.dictionaries(_FIELDS, _JSON_VALUES, max_size=5),
    target=st.sampled_from(
        [("PATCH", "/sobjects/Opportunity/0065j00000E0000AAB"), ("POST", "/sobjects/Opportunity"),
         ("PATCH", "/sobjects/Opportunity/Engagement_Key__c/ENG-2026-55555"),
         ("POST", "/composite/sobjects/Opportunity")]
    ),
)  # fmt: skip
def test_any_write_body_gets_a_vendor_answer(
    firm: Firm, payload: dict[str, Any], target: tuple[str, str]
) -> None:
    method, path = target
    response = _once(
        firm,
        method,
        API + path,
        content=dumps(payload).encode(),  # Decimal as a number literal
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (200, 201, 204, 400, 404)
    if response.status_code >= 400:
        _assert_vendor_error(response)
