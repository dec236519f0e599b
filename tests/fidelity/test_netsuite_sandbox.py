"""The NetSuite sandbox speaks NetSuite REST Web Services (vendor-apis.md section 4).

Raw httpx against the ASGI app; nothing of the adapter is used here.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from sandboxes.firm import Firm
from sandboxes.jsonwire import dumps
from sandboxes.netsuite import (
    NETSUITE_ACCOUNT_ID,
    NETSUITE_CLIENT_ID,
    NETSUITE_CLIENT_SECRET,
    create_app,
)
from sandboxes.netsuite.build import build_store
from tests.support import decimal_json as body

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
TOKEN = "/services/rest/auth/oauth2/v1/token"
RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"
ERROR_TYPE = "application/vnd.oracle.resource+json; type=error"
TRANSIENT = {"Prefer": "transient"}


def error_code(response: httpx.Response) -> str:
    assert response.headers["content-type"] == ERROR_TYPE
    problem = body(response)
    assert problem["status"] == response.status_code
    assert set(problem) == {"type", "title", "status", "o:errorDetails"}
    code = problem["o:errorDetails"][0]["o:errorCode"]
    assert isinstance(code, str)
    return code


def error_detail(response: httpx.Response) -> dict[str, str]:
    detail: dict[str, str] = body(response)["o:errorDetails"][0]
    return detail


@pytest.fixture
def app(firm: Firm) -> Starlette:
    return create_app(firm)


@pytest.fixture
async def raw(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield http


async def issue_token(http: httpx.AsyncClient) -> str:
    response = await http.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": NETSUITE_CLIENT_ID,
            "client_secret": NETSUITE_CLIENT_SECRET,
        },
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


@pytest.fixture
async def ns(raw: httpx.AsyncClient) -> httpx.AsyncClient:
    raw.headers["Authorization"] = f"Bearer {await issue_token(raw)}"
    return raw


async def suiteql(http: httpx.AsyncClient, q: str, **params: int) -> httpx.Response:
    return await http.post(SUITEQL, params=params, headers=TRANSIENT, json={"q": q})


async def rows(http: httpx.AsyncClient, q: str) -> list[dict[str, Any]]:
    response = await suiteql(http, q)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = body(response)["items"]
    return items


async def record_id(http: httpx.AsyncClient, record_type: str, external_id: str) -> str:
    response = await http.get(f"{RECORD}/{record_type}/eid:{external_id}")
    assert response.status_code == 200, response.text
    value = body(response)["id"]
    assert isinstance(value, str)
    return value


def location_id(response: httpx.Response, record_type: str) -> str:
    location = response.headers["Location"]
    prefix = f"{BASE}{RECORD}/{record_type}/"
    assert location.startswith(prefix)
    return location.removeprefix(prefix)


async def new_invoice(ns: httpx.AsyncClient, external_id: str, **extra: Any) -> httpx.Response:
    customer = await record_id(ns, "customer", "CUST-0001")
    payload = {
        "externalId": external_id,
        "entity": {"id": customer},
        "tranDate": "2026-10-31",
        "item": {
            "items": [
                {"item": {"externalId": "SERVICES"}, "quantity": 40, "rate": Decimal("200.00")},
                {"item": {"externalId": "EXPENSE"}, "amount": Decimal("412.35")},
            ]
        },
        **extra,
    }
    return await ns.post(f"{RECORD}/invoice", content=dumps(payload))


# --- auth -------------------------------------------------------------------


async def test_token_endpoint_issues_an_hour_long_bearer_token(raw: httpx.AsyncClient) -> None:
    response = await raw.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": NETSUITE_CLIENT_ID,
            "client_secret": NETSUITE_CLIENT_SECRET,
        },
    )
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 3600
    assert token["access_token"]


async def test_token_endpoint_accepts_a_jwt_client_assertion(raw: httpx.AsyncClient) -> None:
    response = await raw.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "eyJhbGciOiJQUzI1NiJ9.e30.signature",
        },
    )
    assert response.status_code == 200
    assert response.json()["access_token"]


async def test_token_endpoint_refuses_a_wrong_secret(raw: httpx.AsyncClient) -> None:
    response = await raw.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": NETSUITE_CLIENT_ID,
            "client_secret": "nope",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_token_endpoint_refuses_other_grant_types(raw: httpx.AsyncClient) -> None:
    response = await raw.post(TOKEN, data={"grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_call_without_token_is_401_invalid_login(raw: httpx.AsyncClient) -> None:
    response = await raw.get(f"{RECORD}/customer")
    assert response.status_code == 401
    assert error_code(response) == "INVALID_LOGIN"


async def test_call_with_unknown_token_is_401_invalid_login(raw: httpx.AsyncClient) -> None:
    response = await raw.get(f"{RECORD}/customer", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert error_code(response) == "INVALID_LOGIN"


async def test_revoked_token_is_refused(raw: httpx.AsyncClient) -> None:
    token = await issue_token(raw)
    auth = {"Authorization": f"Bearer {token}"}
    assert (await raw.get(f"{RECORD}/subsidiary", headers=auth)).status_code == 200
    revoke = await raw.post(
        "/services/rest/auth/oauth2/v1/revoke",
        data={
            "token": token,
            "client_id": NETSUITE_CLIENT_ID,
            "client_secret": NETSUITE_CLIENT_SECRET,
        },
    )
    assert revoke.status_code == 200
    assert (await raw.get(f"{RECORD}/subsidiary", headers=auth)).status_code == 401


async def test_tba_header_is_checked_for_realm_and_token(raw: httpx.AsyncClient) -> None:
    def header(realm: str) -> dict[str, str]:
        return {
            "Authorization": f'OAuth realm="{realm}", oauth_consumer_key="ck", '
            'oauth_token="tk", oauth_signature_method="HMAC-SHA256", '
            'oauth_timestamp="1717171717", oauth_nonce="n", oauth_version="1.0", '
            'oauth_signature="c2ln"'
        }

    ok = await raw.get(f"{RECORD}/subsidiary", headers=header(NETSUITE_ACCOUNT_ID))
    wrong = await raw.get(f"{RECORD}/subsidiary", headers=header("7654321"))
    assert ok.status_code == 200
    assert wrong.status_code == 401


# --- record reads -----------------------------------------------------------


async def test_record_list_holds_only_ids_and_links_with_paging(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    response = await ns.get(f"{RECORD}/customer", params={"limit": 3, "offset": 6})
    assert response.status_code == 200
    assert response.headers["content-type"].endswith("type=collection")
    page = body(response)
    customers = len(firm.customers) + len(firm.duplicate_customers)
    assert (page["count"], page["hasMore"], page["offset"]) == (3, True, 6)
    assert page["totalResults"] == customers
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert rels["next"] == f"{BASE}{RECORD}/customer?limit=3&offset=9"
    assert rels["previous"] == f"{BASE}{RECORD}/customer?limit=3&offset=3"
    assert {"first", "last", "self"} <= set(rels)
    for item in page["items"]:
        assert set(item) == {"id", "links"}
        assert item["links"] == [{"rel": "self", "href": f"{BASE}{RECORD}/customer/{item['id']}"}]


async def test_following_next_links_visits_every_record_once(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    seen: list[str] = []
    url: str | None = f"{RECORD}/customer?limit=25"
    while url:
        page = body(await ns.get(url))
        seen += [item["id"] for item in page["items"]]
        url = next((x["href"] for x in page["links"] if x["rel"] == "next"), None)
        assert bool(url) == page["hasMore"]
    assert len(seen) == len(set(seen)) == len(firm.customers) + len(firm.duplicate_customers)


async def test_record_list_limit_above_1000_is_400(ns: httpx.AsyncClient) -> None:
    response = await ns.get(f"{RECORD}/customer", params={"limit": 1001})
    assert response.status_code == 400
    assert error_code(response) == "INVALID_PARAMETER"


async def test_record_list_filter_q_selects_records(ns: httpx.AsyncClient) -> None:
    page = body(await ns.get(f"{RECORD}/customer", params={"q": 'externalId IS "CUST-0001"'}))
    assert page["totalResults"] == 1
    recent = body(
        await ns.get(f"{RECORD}/invoice", params={"q": "lastModifiedDate ON_OR_AFTER 1/9/2026"})
    )
    everything = body(await ns.get(f"{RECORD}/invoice"))
    assert 0 < recent["totalResults"] < everything["totalResults"]


async def test_record_list_bad_filter_is_400(ns: httpx.AsyncClient) -> None:
    response = await ns.get(f"{RECORD}/customer", params={"q": "nonsense IS 1"})
    assert response.status_code == 400
    assert error_code(response) == "INVALID_PARAMETER"


async def test_customer_reads_back_camel_case_fields_and_references(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    source = firm.customers[0]
    response = await ns.get(f"{RECORD}/customer/eid:{source.key}")
    assert response.headers["content-type"] == "application/vnd.oracle.resource+json; type=singular"
    customer = body(response)
    assert customer["companyName"] == source.name
    assert customer["externalId"] == source.key
    assert customer["custentity_eg_status"] == source.status
    assert customer["isInactive"] is False
    subsidiary = customer["subsidiary"]
    assert set(subsidiary) == {"id", "refName", "links"}
    entity = next(e for e in firm.legal_entities if e.code == source.legal_entity)
    assert subsidiary["refName"] == entity.name
    assert subsidiary["links"][0]["href"] == f"{BASE}{RECORD}/subsidiary/{subsidiary['id']}"
    assert customer["lastModifiedDate"].endswith("Z")
    by_id = body(await ns.get(f"{RECORD}/customer/{customer['id']}"))
    assert by_id == customer


async def test_customer_without_tax_jurisdiction_omits_the_field(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    source = next(c for c in firm.customers if c.tax_jurisdiction is None)
    customer = body(await ns.get(f"{RECORD}/customer/eid:{source.key}"))
    assert "custentity_eg_tax_jurisdiction" not in customer


async def test_planted_duplicate_customers_exist_only_in_the_erp(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    for duplicate in firm.duplicate_customers:
        customer = body(await ns.get(f"{RECORD}/customer/eid:{duplicate.key}"))
        assert customer["companyName"] == duplicate.name


async def test_job_carries_engagement_dimensions_and_contract_fields(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    engagement = next(e for e in firm.engagements if e.not_to_exceed is not None)
    job = body(await ns.get(f"{RECORD}/job/eid:{engagement.key}"))
    assert job["companyName"] == engagement.name
    assert job["parent"]["id"] == await record_id(ns, "customer", engagement.customer)
    assert {"department", "class", "location", "subsidiary"} <= set(job)
    assert job["startDate"] == engagement.start_date.isoformat()
    assert job["custentity_eg_billing_model"] == engagement.billing_model
    assert job["custentity_eg_nte"] == engagement.not_to_exceed


async def test_unknown_record_id_is_404_nonexistent_id(ns: httpx.AsyncClient) -> None:
    for path in (f"{RECORD}/customer/999999", f"{RECORD}/customer/eid:NOPE"):
        response = await ns.get(path)
        assert response.status_code == 404
        assert error_code(response) == "NONEXISTENT_ID"


async def test_invoice_item_sublist_is_links_until_expanded(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    source = firm.invoices[0]
    plain = body(await ns.get(f"{RECORD}/invoice/eid:{source.key}"))
    assert set(plain["item"]) == {"links"}
    assert plain["total"] == source.total
    assert plain["status"]["id"] in ("A", "B")
    expanded = body(
        await ns.get(f"{RECORD}/invoice/eid:{source.key}", params={"expandSubResources": "true"})
    )
    lines = expanded["item"]["items"]
    assert [line["amount"] for line in lines] == [line.amount for line in source.lines]
    assert lines[0]["custcol_eg_sources"] == ",".join(source.lines[0].sources)
    assert lines[0]["item"]["refName"] == source.lines[0].item


async def test_money_is_written_as_exact_json_numbers(ns: httpx.AsyncClient, firm: Firm) -> None:
    source = next(i for i in firm.invoices if i.total != i.total.to_integral_value())
    response = await ns.get(f"{RECORD}/invoice/eid:{source.key}", params={"fields": "total"})
    assert f'"total":{source.total}' in response.text


async def test_fields_parameter_keeps_only_the_named_fields(ns: httpx.AsyncClient) -> None:
    customer = body(
        await ns.get(f"{RECORD}/customer/eid:CUST-0001", params={"fields": "companyName,email"})
    )
    assert set(customer) == {"links", "id", "companyName", "email"}
    bad = await ns.get(f"{RECORD}/customer/eid:CUST-0001", params={"fields": "shoeSize"})
    assert bad.status_code == 400


# --- writes -----------------------------------------------------------------


async def test_create_answers_204_with_location_and_no_body(ns: httpx.AsyncClient) -> None:
    response = await new_invoice(ns, "INV-TEST-1")
    assert response.status_code == 204
    assert response.content == b""
    invoice_id = location_id(response, "invoice")
    invoice = body(await ns.get(f"{RECORD}/invoice/{invoice_id}"))
    assert invoice["externalId"] == "INV-TEST-1"
    assert invoice["total"] == Decimal("8412.35")
    assert invoice["amountRemaining"] == Decimal("8412.35")
    assert invoice["status"] == {"id": "A", "refName": "Open"}


async def test_patch_answers_204_and_advances_last_modified_date(ns: httpx.AsyncClient) -> None:
    before = body(await ns.get(f"{RECORD}/customer/eid:CUST-0002"))
    response = await ns.patch(f"{RECORD}/customer/{before['id']}", json={"email": "ap@x.example"})
    assert response.status_code == 204
    after = body(await ns.get(f"{RECORD}/customer/eid:CUST-0002"))
    assert after["email"] == "ap@x.example"
    assert after["lastModifiedDate"] > before["lastModifiedDate"]


async def test_upsert_by_external_id_creates_then_updates_the_same_record(
    ns: httpx.AsyncClient,
) -> None:
    subsidiary = await record_id(ns, "subsidiary", "US")
    payload = {"companyName": "Zephyr Labs", "subsidiary": {"id": subsidiary}}
    first = await ns.put(f"{RECORD}/customer/eid:CUST-NEW", json=payload)
    second = await ns.put(f"{RECORD}/customer/eid:CUST-NEW", json={"companyName": "Zephyr Lab"})
    assert (first.status_code, second.status_code) == (204, 204)
    assert first.headers["Location"] == second.headers["Location"]
    found = await rows(ns, "SELECT id, companyname FROM customer WHERE externalid = 'CUST-NEW'")
    assert [row["companyname"] for row in found] == ["Zephyr Lab"]


async def test_upsert_body_must_not_carry_external_id(ns: httpx.AsyncClient) -> None:
    response = await ns.put(
        f"{RECORD}/customer/eid:CUST-X", json={"companyName": "X", "externalId": "CUST-X"}
    )
    assert response.status_code == 400
    assert error_code(response) == "INVALID_CONTENT"


async def test_duplicate_external_id_on_create_is_400_dup_record(ns: httpx.AsyncClient) -> None:
    assert (await new_invoice(ns, "INV-DUP")).status_code == 204
    again = await new_invoice(ns, "INV-DUP")
    assert again.status_code == 400
    assert error_code(again) == "DUP_RECORD"
    assert error_detail(again)["o:errorPath"] == "externalId"


async def test_invalid_reference_is_400_invalid_value_naming_the_field(
    ns: httpx.AsyncClient,
) -> None:
    response = await new_invoice(ns, "INV-BAD-REF", subsidiary={"id": "424242"})
    assert response.status_code == 400
    assert error_code(response) == "INVALID_VALUE"
    assert error_detail(response)["o:errorPath"] == "subsidiary"


async def test_unknown_field_and_wrong_type_are_400_invalid_content(
    ns: httpx.AsyncClient,
) -> None:
    unknown = await ns.patch(f"{RECORD}/customer/eid:CUST-0001", json={"shoeSize": 9})
    wrong = await ns.patch(f"{RECORD}/customer/eid:CUST-0001", json={"isInactive": "no"})
    for response in (unknown, wrong):
        assert response.status_code == 400
        assert error_code(response) == "INVALID_CONTENT"


async def test_missing_mandatory_field_is_400_user_error(ns: httpx.AsyncClient) -> None:
    response = await ns.post(f"{RECORD}/customer", json={"email": "a@b.example"})
    assert response.status_code == 400
    assert error_code(response) == "USER_ERROR"


async def test_malformed_json_is_400_not_a_crash(ns: httpx.AsyncClient) -> None:
    response = await ns.post(f"{RECORD}/customer", content=b"{not json")
    assert response.status_code == 400
    assert error_code(response) == "INVALID_CONTENT"


async def test_unknown_record_type_path_and_method_answer_in_netsuite_shape(
    ns: httpx.AsyncClient,
) -> None:
    unknown_type = await ns.get(f"{RECORD}/spaceship/1")
    unknown_path = await ns.get("/services/rest/nothing/here")
    wrong_method = await ns.put(f"{RECORD}/customer/5", json={})
    assert unknown_type.status_code == unknown_path.status_code == 404
    assert wrong_method.status_code == 405
    for response in (unknown_type, unknown_path, wrong_method):
        error_code(response)


async def test_replayed_idempotency_key_returns_same_location_and_creates_nothing(
    ns: httpx.AsyncClient,
) -> None:
    key = str(uuid.uuid4())
    headers = {"X-NetSuite-Idempotency-Key": key}
    customer = await record_id(ns, "customer", "CUST-0001")
    payload = {
        "entity": {"id": customer},
        "item": {"items": [{"item": {"externalId": "FIXED_FEE"}, "amount": 5000}]},
    }
    first = await ns.post(f"{RECORD}/invoice", json=payload, headers=headers)
    replay = await ns.post(f"{RECORD}/invoice", json=payload, headers=headers)
    assert (first.status_code, replay.status_code) == (204, 204)
    assert first.headers["Location"] == replay.headers["Location"]
    count = await rows(ns, f"SELECT id FROM transaction WHERE entity = {customer}")
    fresh = await ns.post(f"{RECORD}/invoice", json=payload)
    assert fresh.headers["Location"] != first.headers["Location"]
    assert len(await rows(ns, f"SELECT id FROM transaction WHERE entity = {customer}")) == (
        len(count) + 1
    )


async def test_async_create_runs_as_a_job_and_its_replay_is_idempotency_error(
    ns: httpx.AsyncClient,
) -> None:
    key = str(uuid.uuid4())
    headers = {"Prefer": "respond-async", "X-NetSuite-Idempotency-Key": key}
    subsidiary = await record_id(ns, "subsidiary", "UK")
    payload = {"companyName": "Async Ltd", "subsidiary": {"id": subsidiary}}
    accepted = await ns.post(f"{RECORD}/customer", json=payload, headers=headers)
    assert accepted.status_code == 202
    job_url = accepted.headers["Location"]
    assert job_url.startswith(f"{BASE}/services/rest/async/v1/job/")
    job = body(await ns.get(job_url))
    assert job["completed"] is True
    assert job["progress"] == "succeeded"
    created = next(link["href"] for link in job["links"] if link["rel"] == "related")
    assert body(await ns.get(created))["companyName"] == "Async Ltd"
    result = await ns.get(f"{job_url}/task/{job['id']}/result")
    assert (result.status_code, result.headers["Location"]) == (204, created)
    replay = await ns.post(f"{RECORD}/customer", json=payload, headers=headers)
    assert replay.status_code == 400
    assert error_code(replay) == "IDEMPOTENCY_ERROR"
    assert replay.headers["Location"] == job_url
    named = await rows(ns, "SELECT id FROM customer WHERE companyname = 'Async Ltd'")
    assert len(named) == 1


async def test_idempotency_key_must_be_a_uuid(ns: httpx.AsyncClient) -> None:
    response = await new_invoice(ns, "INV-K")
    assert response.status_code == 204
    bad = await ns.post(
        f"{RECORD}/customer", json={}, headers={"X-NetSuite-Idempotency-Key": "not-a-uuid"}
    )
    assert bad.status_code == 400


async def test_payment_application_settles_the_invoice(ns: httpx.AsyncClient) -> None:
    invoice_id = location_id(await new_invoice(ns, "INV-PAY"), "invoice")
    before = body(await ns.get(f"{RECORD}/invoice/{invoice_id}"))
    customer = await record_id(ns, "customer", "CUST-0001")
    payment = {
        "customer": {"id": customer},
        "tranDate": "2026-11-15",
        "payment": Decimal("8412.35"),
        "externalId": "PAY-TEST-1",
        "undepFunds": True,
        "apply": {
            "items": [{"doc": {"id": invoice_id}, "apply": True, "amount": Decimal("8412.35")}]
        },
    }
    response = await ns.post(f"{RECORD}/customerPayment", content=dumps(payment))
    assert response.status_code == 204, response.text
    after = body(await ns.get(f"{RECORD}/invoice/{invoice_id}"))
    assert after["amountRemaining"] == Decimal("0.00")
    assert after["status"]["id"] == "B"
    assert after["lastModifiedDate"] > before["lastModifiedDate"]
    applied = await rows(
        ns,
        f"SELECT appliedtotransaction, foreignamount FROM transactionline "
        f"WHERE transaction = {location_id(response, 'customerPayment')} AND mainline = 'F'",
    )
    assert applied == [
        {"links": [], "appliedtotransaction": invoice_id, "foreignamount": "8412.35"}
    ]


async def test_payment_cannot_apply_more_than_is_due(ns: httpx.AsyncClient) -> None:
    invoice_id = location_id(await new_invoice(ns, "INV-OVER"), "invoice")
    customer = await record_id(ns, "customer", "CUST-0001")
    response = await ns.post(
        f"{RECORD}/customerPayment",
        json={
            "customer": {"id": customer},
            "payment": 10000,
            "apply": {"items": [{"doc": {"id": invoice_id}, "amount": 9000}]},
        },
    )
    assert response.status_code == 400
    assert error_code(response) == "USER_ERROR"


async def test_patch_merges_lines_unless_replace_is_asked(ns: httpx.AsyncClient) -> None:
    invoice_id = location_id(await new_invoice(ns, "INV-LINES"), "invoice")
    extra = {"item": {"items": [{"item": {"externalId": "EXPENSE"}, "amount": 10}]}}
    merged = await ns.patch(f"{RECORD}/invoice/{invoice_id}", json=extra)
    assert merged.status_code == 204
    params = {"expandSubResources": "true"}
    lines = body(await ns.get(f"{RECORD}/invoice/{invoice_id}", params=params))["item"]["items"]
    assert len(lines) == 3
    replaced = await ns.patch(
        f"{RECORD}/invoice/{invoice_id}", params={"replace": "item"}, json=extra
    )
    assert replaced.status_code == 204
    invoice = body(await ns.get(f"{RECORD}/invoice/{invoice_id}", params=params))
    assert len(invoice["item"]["items"]) == 1
    assert invoice["total"] == 10


async def test_delete_answers_204_and_refuses_records_with_dependents(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    invoice_id = location_id(await new_invoice(ns, "INV-DEL"), "invoice")
    assert (await ns.delete(f"{RECORD}/invoice/{invoice_id}")).status_code == 204
    assert (await ns.get(f"{RECORD}/invoice/{invoice_id}")).status_code == 404
    busy = await ns.delete(f"{RECORD}/customer/eid:{firm.invoices[0].customer}")
    assert busy.status_code == 400
    assert error_code(busy) == "USER_ERROR"


# --- number ranges and decimals ---------------------------------------------


async def invoice_with_literal(
    ns: httpx.AsyncClient, external_id: str, literal: str
) -> httpx.Response:
    """An invoice whose one line's ``amount`` is the raw JSON number text `literal`."""
    customer = await record_id(ns, "customer", "CUST-0001")
    payload = {
        "externalId": external_id,
        "entity": {"id": customer},
        "item": {"items": [{"item": {"externalId": "EXPENSE"}, "amount": "@AMOUNT@"}]},
    }
    return await ns.post(f"{RECORD}/invoice", content=dumps(payload).replace('"@AMOUNT@"', literal))


def assert_invalid_value(response: httpx.Response, path: str) -> None:
    assert response.status_code == 400, response.text
    assert error_code(response) == "INVALID_VALUE"
    assert error_detail(response)["o:errorPath"] == path


@pytest.mark.parametrize(
    "literal",
    [
        "1e400",
        "1000000000000000",
        "-1e15",
        "1000000000000000.00",
        pytest.param("9" * 5000, id="5000-digits"),
    ],
)
async def test_amount_of_more_than_fifteen_integer_digits_is_400_invalid_value(
    ns: httpx.AsyncClient, literal: str
) -> None:
    response = await invoice_with_literal(ns, "INV-HUGE", literal)
    assert_invalid_value(response, "item.items[0].amount")
    assert (await ns.get(f"{RECORD}/invoice/eid:INV-HUGE")).status_code == 404


@pytest.mark.parametrize(
    "literal", ["NaN", "Infinity", "-Infinity", "1e99999999999999999999", "1e-99999999999999999999"]
)
async def test_non_finite_or_unholdable_numbers_are_400_invalid_value(
    ns: httpx.AsyncClient, literal: str
) -> None:
    response = await invoice_with_literal(ns, "INV-NAN", literal)
    assert_invalid_value(response, "item.items[0].amount")


async def test_deeply_nested_json_is_400_invalid_content_not_a_crash(
    ns: httpx.AsyncClient,
) -> None:
    response = await ns.post(f"{RECORD}/customer", content=b"[" * 100_000)
    assert response.status_code == 400
    assert error_code(response) == "INVALID_CONTENT"


async def test_largest_amount_and_trailing_zeros_are_accepted(ns: httpx.AsyncClient) -> None:
    largest = await invoice_with_literal(ns, "INV-MAX", "999999999999999.99")
    padded = await invoice_with_literal(ns, "INV-PAD", "412.3500")
    assert (largest.status_code, padded.status_code) == (204, 204)
    invoice = body(await ns.get(f"{RECORD}/invoice/eid:INV-MAX"))
    assert invoice["total"] == Decimal("999999999999999.99")
    assert body(await ns.get(f"{RECORD}/invoice/eid:INV-PAD"))["total"] == Decimal("412.35")


async def test_amount_with_more_decimals_than_the_currency_is_400_invalid_value(
    ns: httpx.AsyncClient,
) -> None:
    response = await invoice_with_literal(ns, "INV-MILLS", "412.351")
    assert_invalid_value(response, "item.items[0].amount")


async def test_rate_and_quantity_take_eight_decimals_and_the_amount_is_rounded(
    ns: httpx.AsyncClient,
) -> None:
    line = {"item": {"externalId": "SERVICES"}, "quantity": Decimal("1.5"),
            "rate": Decimal("123.12345678")}  # fmt: skip
    response = await new_invoice(ns, "INV-FINE", item={"items": [line]})
    assert response.status_code == 204, response.text
    invoice = body(
        await ns.get(f"{RECORD}/invoice/eid:INV-FINE", params={"expandSubResources": "true"})
    )
    [read] = invoice["item"]["items"]
    assert (read["quantity"], read["rate"]) == (Decimal("1.5"), Decimal("123.12345678"))
    assert read["amount"] == invoice["total"] == Decimal("184.69")  # 184.685185170 rounded
    too_fine_rate = {**line, "rate": Decimal("123.123456789")}
    too_fine_quantity = {**line, "quantity": Decimal("1.000000001")}
    for field, bad in (("rate", too_fine_rate), ("quantity", too_fine_quantity)):
        refused = await new_invoice(ns, f"INV-{field}", item={"items": [bad]})
        assert_invalid_value(refused, f"item.items[0].{field}")


async def test_derived_line_amount_or_total_beyond_range_is_400_invalid_value(
    ns: httpx.AsyncClient,
) -> None:
    huge_line = {"item": {"externalId": "SERVICES"}, "quantity": 100_000_000, "rate": 10_000_000}
    big = {"item": {"externalId": "EXPENSE"}, "amount": 600_000_000_000_000}
    line_over = await new_invoice(ns, "INV-OVER-LINE", item={"items": [huge_line]})
    total_over = await new_invoice(ns, "INV-OVER-TOTAL", item={"items": [big, big]})
    assert_invalid_value(line_over, "item.items[0].amount")
    assert_invalid_value(total_over, "total")


async def test_payment_amounts_follow_the_currency_precision(ns: httpx.AsyncClient) -> None:
    invoice_id = location_id(await new_invoice(ns, "INV-TO-PAY"), "invoice")
    customer = await record_id(ns, "customer", "CUST-0001")
    base = {"customer": {"id": customer}, "tranDate": "2026-11-15"}
    header = await ns.post(
        f"{RECORD}/customerPayment", content=dumps({**base, "payment": Decimal("10.001")})
    )
    applied = {"items": [{"doc": {"id": invoice_id}, "amount": Decimal("0.005")}]}
    line = await ns.post(
        f"{RECORD}/customerPayment",
        content=dumps({**base, "payment": Decimal("10.00"), "apply": applied}),
    )
    assert_invalid_value(header, "payment")
    assert_invalid_value(line, "apply.items[0].amount")


async def test_zero_decimal_currency_refuses_cents_and_rounds_derived_amounts(
    ns: httpx.AsyncClient,
) -> None:
    yen = await ns.post(f"{RECORD}/currency", json={"name": "Yen", "symbol": "JPY"})
    subsidiary = await ns.post(
        f"{RECORD}/subsidiary",
        json={"name": "Acme KK", "currency": {"id": location_id(yen, "currency")}},
    )
    customer = await ns.post(
        f"{RECORD}/customer",
        json={
            "companyName": "Tokyo Co",
            "subsidiary": {"id": location_id(subsidiary, "subsidiary")},
        },
    )
    entity = {"id": location_id(customer, "customer")}

    async def invoice(external_id: str, line: dict[str, Any]) -> httpx.Response:
        payload = {"externalId": external_id, "entity": entity, "item": {"items": [line]}}
        return await ns.post(f"{RECORD}/invoice", content=dumps(payload))

    item = {"externalId": "SERVICES"}
    cents = await invoice("INV-JPY-1", {"item": item, "amount": Decimal("1000.5")})
    whole = await invoice("INV-JPY-2", {"item": item, "amount": 1000})
    derived = await invoice("INV-JPY-3", {"item": item, "quantity": 3, "rate": Decimal("333.335")})
    assert_invalid_value(cents, "item.items[0].amount")
    assert (whole.status_code, derived.status_code) == (204, 204)
    total = body(await ns.get(f"{RECORD}/invoice/eid:INV-JPY-3"))["total"]
    assert total == 1000 and "." not in str(total)


# --- SuiteQL ----------------------------------------------------------------


async def test_suiteql_requires_prefer_transient(ns: httpx.AsyncClient) -> None:
    response = await ns.post(SUITEQL, json={"q": "SELECT id FROM customer"})
    assert response.status_code == 400
    error_code(response)


async def test_suiteql_rows_have_lowercase_string_values_and_omit_nulls(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    no_tax = next(c for c in firm.customers if c.tax_jurisdiction is None)
    found = await rows(
        ns,
        "SELECT id, companyName, custentity_eg_tax_jurisdiction, isinactive, subsidiary "
        f"FROM customer WHERE externalid = '{no_tax.key}'",
    )
    assert len(found) == 1
    row = found[0]
    assert set(row) == {"links", "id", "companyname", "isinactive", "subsidiary"}
    assert all(isinstance(value, str) for key, value in row.items() if key != "links")
    assert row["isinactive"] == "F"


async def test_suiteql_transaction_rows_follow_the_vendor_example(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    source = firm.invoices[0]
    found = await rows(
        ns,
        "SELECT id, tranid, entity, status, foreigntotal, trandate, custbody_eg_engagement_key "
        f"FROM transaction WHERE type = 'CustInvc' AND externalid = '{source.key}' ORDER BY id",
    )
    row = found[0]
    assert row["status"] == ("B" if source.status == "paid" else "A")
    assert Decimal(row["foreigntotal"]) == source.total
    day = source.tran_date
    assert row["trandate"] == f"{day.day}/{day.month}/{day.year}"
    assert row["custbody_eg_engagement_key"] == source.engagement_key


async def test_suiteql_pages_follow_next_to_the_end(ns: httpx.AsyncClient, firm: Firm) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        response = await suiteql(
            ns, "SELECT id FROM transaction ORDER BY id", limit=100, offset=offset
        )
        page = body(response)
        seen += [row["id"] for row in page["items"]]
        if not page["hasMore"]:
            break
        nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
        offset = int(httpx.URL(nxt).params["offset"])
    assert len(seen) == len(set(seen)) == len(firm.invoices) + len(firm.payments)
    assert page["totalResults"] == len(seen)


async def test_suiteql_limit_and_offset_are_checked(ns: httpx.AsyncClient) -> None:
    too_big = await suiteql(ns, "SELECT id FROM customer", limit=1001)
    misaligned = await suiteql(ns, "SELECT id FROM customer", limit=10, offset=5)
    for response in (too_big, misaligned):
        assert response.status_code == 400
        assert error_code(response) == "INVALID_PARAMETER"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("SELECT id FROM customer WHERE", "end of query"),
        ("SELECT id, shoesize FROM customer", "shoesize"),
        ("SELECT id FROM spaceship", "spaceship"),
        ("SELECT id FROM customer WHERE id = 'abc'", "abc"),
        ("SELECT c.id FROM customer c JOIN job j ON j.parent = c.id", "JOIN"),
        ("SELECT (SELECT id FROM job) AS j FROM customer", "more than one row"),
        ("SELECT (SELECT id, parent FROM job WHERE id = 1) FROM customer", "one column"),
        ("SELECT (SELECT parent FROM job WHERE id = c.shoesize) FROM customer c", "shoesize"),
    ],
)
async def test_suiteql_refuses_bad_queries_naming_the_problem(
    ns: httpx.AsyncClient, query: str, named: str
) -> None:
    response = await suiteql(ns, query)
    assert response.status_code == 400
    assert error_code(response) == "INVALID_PARAMETER"
    detail = error_detail(response)["detail"]
    assert detail.startswith("Invalid search query")
    assert named in detail


async def test_suiteql_scalar_subquery_reads_the_enclosing_row(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    engagement = next(e for e in firm.engagements if "netsuite" in e.present_in)
    customer = next(c for c in firm.customers if c.key == engagement.customer)
    (row,) = await rows(
        ns,
        "SELECT id, (SELECT externalid FROM customer WHERE id = j.parent) AS customer, "
        "(SELECT BUILTIN.DF(j.subsidiary) FROM customer WHERE id = j.parent) AS sub, "
        "(SELECT id FROM customer WHERE id = 0) AS nobody "
        f"FROM job j WHERE externalid = '{engagement.key}'",
    )
    entity = next(e for e in firm.legal_entities if e.code == engagement.legal_entity)
    assert (row["customer"], row["sub"]) == (customer.key, entity.name)
    assert "nobody" not in row  # no row found: NULL, omitted
    invoices = await rows(
        ns,
        "SELECT id FROM transaction WHERE type = 'CustInvc' "
        "AND (SELECT externalid FROM job WHERE id = transaction.job) = "
        f"'{engagement.key}' ORDER BY id",
    )
    expected = [i for i in firm.invoices if i.engagement_key == engagement.key]
    assert len(invoices) == len(expected) > 0


async def test_suiteql_builtin_df_shows_display_text(ns: httpx.AsyncClient, firm: Firm) -> None:
    source = firm.invoices[0]
    row = (
        await rows(
            ns,
            "SELECT BUILTIN.DF(entity) AS customer, BUILTIN.DF(status) AS status, "
            f"BUILTIN.DF(currency) FROM transaction WHERE externalid = '{source.key}'",
        )
    )[0]
    customer = next(c for c in firm.customers if c.key == source.customer)
    assert row["customer"] == customer.name
    assert row["status"] in ("Invoice : Open", "Invoice : Paid In Full")
    assert row["expr1"] in ("US Dollar", "British Pound", "Euro")


async def test_suiteql_transactionline_gives_invoice_lines(
    ns: httpx.AsyncClient, firm: Firm
) -> None:
    source = firm.invoices[0]
    invoice_id = await record_id(ns, "invoice", source.key)
    lines = await rows(
        ns,
        "SELECT linesequencenumber, BUILTIN.DF(item) AS item, memo, quantity, rate, netamount "
        f"FROM transactionline WHERE transaction = {invoice_id} AND mainline = 'F' "
        "ORDER BY linesequencenumber",
    )
    assert [Decimal(line["netamount"]) for line in lines] == [x.amount for x in source.lines]
    assert [line["item"] for line in lines] == [x.item for x in source.lines]
    assert [line["memo"] for line in lines] == [x.description for x in source.lines]


async def test_suiteql_sees_writes_immediately(ns: httpx.AsyncClient) -> None:
    before = await rows(ns, "SELECT id FROM transaction WHERE externalid = 'INV-SEEN'")
    await new_invoice(ns, "INV-SEEN")
    after = await rows(ns, "SELECT id FROM transaction WHERE externalid = 'INV-SEEN'")
    assert (len(before), len(after)) == (0, 1)


# --- control plane ----------------------------------------------------------


async def test_calls_are_counted_per_endpoint(ns: httpx.AsyncClient) -> None:
    await ns.post("/__sandbox/calls/reset")
    await ns.get(f"{RECORD}/customer/eid:CUST-0001")
    await suiteql(ns, "SELECT id FROM customer")
    await suiteql(ns, "SELECT id FROM job")
    calls = (await ns.get("/__sandbox/calls")).json()
    assert calls["total"] == 3
    assert calls["by_endpoint"][f"POST {SUITEQL}"] == 2


async def test_error_rate_one_answers_netsuite_server_errors(ns: httpx.AsyncClient) -> None:
    await ns.post("/__sandbox/faults", json={"error_rate": 1})
    statuses = set()
    for _ in range(8):
        response = await ns.get(f"{RECORD}/customer/eid:CUST-0001")
        statuses.add(response.status_code)
        assert error_code(response) in ("UNEXPECTED_ERROR", "SERVICE_UNAVAILABLE")
    assert statuses <= {500, 503}


async def test_rate_limit_rate_one_answers_429_without_retry_after(ns: httpx.AsyncClient) -> None:
    await ns.post("/__sandbox/faults", json={"rate_limit_rate": 1, "retry_after_s": 7})
    response = await ns.get(f"{RECORD}/customer/eid:CUST-0001")
    assert response.status_code == 429
    assert error_code(response) == "CONCURRENCY_LIMIT_EXCEEDED"
    assert "Retry-After" not in response.headers


async def test_requests_beyond_the_concurrency_cap_get_429(firm: Firm) -> None:
    app = create_app(firm, concurrency_limit=2)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        http.headers["Authorization"] = f"Bearer {await issue_token(http)}"
        await http.post("/__sandbox/faults", json={"latency_ms": 50})
        responses = await asyncio.gather(*(http.get(f"{RECORD}/subsidiary") for _ in range(6)))
        calls = (await http.get("/__sandbox/calls")).json()["total"]
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 2
    assert statuses.count(429) == 4
    refused = next(r for r in responses if r.status_code == 429)
    assert error_code(refused) == "CONCURRENCY_LIMIT_EXCEEDED"
    assert calls == 7  # the token call and all six, refused ones included


async def test_reset_restores_the_seeded_account(ns: httpx.AsyncClient) -> None:
    await new_invoice(ns, "INV-GONE")
    await ns.post("/__sandbox/faults", json={"error_rate": 1})
    assert (await ns.post("/__sandbox/reset")).json() == {"reset": True}
    assert (await ns.get(f"{RECORD}/invoice/eid:INV-GONE")).status_code == 404
    assert (await ns.get("/__sandbox/calls")).json()["total"] == 1


async def test_sandbox_ids_are_deterministic(firm: Firm) -> None:
    first, second = build_store(firm), build_store(firm)
    assert first.external == second.external


def test_building_the_account_from_the_firm_is_fast(firm: Firm) -> None:
    started = time.perf_counter()
    build_store(firm)
    assert time.perf_counter() - started < 0.3
