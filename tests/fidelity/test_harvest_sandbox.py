"""Fidelity of the Harvest sandbox to Harvest API v2 (vendor-apis.md §3), over raw HTTP."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from sandboxes.firm import Firm, TimeEntry
from sandboxes.harvest import HARVEST_ACCOUNT_ID, HARVEST_TOKEN, create_app
from sandboxes.harvest.errors import INVALID_TOKEN_DESCRIPTION
from sandboxes.jsonwire import dumps
from tests.support import FakeClock
from tests.support import decimal_json as body

BASE = "https://api.harvestapp.test"
AUTH = {
    "Authorization": f"Bearer {HARVEST_TOKEN}",
    "Harvest-Account-Id": HARVEST_ACCOUNT_ID,
    "User-Agent": "fidelity-tests (qa@example.com)",
}
TIME_ENTRY_KEYS = {
    "id", "spent_date", "hours", "hours_without_timer", "rounded_hours", "notes", "is_locked",
    "locked_reason", "approval_status", "is_closed", "is_billed", "timer_started_at",
    "started_time", "ended_time", "is_running", "billable", "budgeted", "billable_rate",
    "cost_rate", "user", "client", "project", "task", "invoice", "external_reference",
    "created_at", "updated_at",
}  # fmt: skip
PAGE_KEYS = {"per_page", "total_pages", "total_entries", "next_page", "previous_page", "page"}
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def client_for(app: Starlette, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(
        transport=transport, base_url=BASE, headers=AUTH if headers is None else headers
    )


@pytest.fixture
def app(firm: Firm) -> Starlette:
    return create_app(firm, rate_limit=None)


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


def harvest_entries(firm: Firm) -> list[TimeEntry]:
    keys = {e.key for e in firm.engagements if "harvest" in e.present_in}
    return [t for t in firm.time_entries if t.engagement_key in keys]


async def entry_for(api: httpx.AsyncClient, key: str) -> dict[str, Any]:
    """The Harvest time entry whose external reference is the firm's `key`."""
    found = body(await api.get("/v2/time_entries", params={"external_reference_id": key}))
    assert found["total_entries"] == 1
    entry: dict[str, Any] = found["time_entries"][0]
    return entry


async def project_ids(api: httpx.AsyncClient) -> dict[str, int]:
    projects = body(await api.get("/v2/projects"))["projects"]
    return {p["code"]: p["id"] for p in projects}


async def follow(api: httpx.AsyncClient, first: httpx.Response, key: str) -> list[dict[str, Any]]:
    page = body(first)
    rows: list[dict[str, Any]] = list(page[key])
    while page["links"]["next"]:
        page = body(await api.get(page["links"]["next"]))
        rows += page[key]
    return rows


# -- authentication -------------------------------------------------------------


async def test_a_request_without_user_agent_is_400(api: httpx.AsyncClient) -> None:
    request = api.build_request("GET", "/v2/company")
    del request.headers["User-Agent"]
    response = await api.send(request)
    assert response.status_code == 400
    assert "User-Agent" in body(response)["message"]


async def test_an_unknown_token_is_401_with_the_oauth_error_body(app: Starlette) -> None:
    async with client_for(app, {**AUTH, "Authorization": "Bearer nope"}) as client:
        response = await client.get("/v2/time_entries")
    assert response.status_code == 401
    assert body(response) == {
        "error": "invalid_token",
        "error_description": INVALID_TOKEN_DESCRIPTION,
    }


@pytest.mark.parametrize("account", [None, "7654321"])
async def test_a_missing_or_foreign_account_id_is_403_forbidden(
    app: Starlette, account: str | None
) -> None:
    headers = {k: v for k, v in AUTH.items() if k != "Harvest-Account-Id"}
    if account is not None:
        headers["Harvest-Account-Id"] = account
    async with client_for(app, headers) as client:
        response = await client.get("/v2/users/me")
    assert response.status_code == 403
    payload = body(response)
    assert payload["error"] == "forbidden"
    assert payload["error_description"]


async def test_credentials_may_come_as_query_parameters(app: Starlette) -> None:
    async with client_for(app, {"User-Agent": "qa (qa@example.com)"}) as client:
        params = {"access_token": HARVEST_TOKEN, "account_id": HARVEST_ACCOUNT_ID}
        response = await client.get("/v2/users/me", params=params)
    assert response.status_code == 200


async def test_the_control_plane_needs_no_vendor_credentials(app: Starlette) -> None:
    async with client_for(app, {}) as client:
        response = await client.get("/__sandbox/calls")
    assert response.status_code == 200


# -- shapes ---------------------------------------------------------------------


async def test_company_names_the_firm(api: httpx.AsyncClient) -> None:
    payload = body(await api.get("/v2/company"))
    assert payload["name"] == "Northwind Consulting"
    assert payload["base_uri"] == "https://northwind.harvestapp.com"
    assert payload["expense_feature"] is True


async def test_users_have_roles_capacity_in_seconds_and_exact_rates(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    users = await follow(api, await api.get("/v2/users", params={"per_page": 50}), "users")
    assert len(users) == len(firm.people)
    by_email = {u["email"]: u for u in users}
    for person in firm.people:
        user = by_email[person.email]
        assert (user["first_name"], user["last_name"]) == (person.first_name, person.last_name)
        assert user["roles"] == [person.role]
        assert user["weekly_capacity"] == person.weekly_capacity_hours * 3600
        assert str(user["cost_rate"]) == str(person.cost_rate)
        assert user["is_contractor"] is person.is_contractor
    me = body(await api.get("/v2/users/me"))
    assert me["id"] == by_email[me["email"]]["id"]


async def test_a_time_entry_has_harvests_full_shape(api: httpx.AsyncClient, firm: Firm) -> None:
    source = harvest_entries(firm)[0]
    entry = await entry_for(api, source.key)
    assert set(entry) == TIME_ENTRY_KEYS
    assert isinstance(entry["id"], int)
    assert entry["spent_date"] == source.spent_date.isoformat()
    assert set(entry["user"]) == {"id", "name"}
    assert set(entry["client"]) == {"id", "name", "currency"}
    assert set(entry["project"]) == {"id", "name", "code"}
    assert entry["project"]["code"] == source.engagement_key
    assert set(entry["task"]) == {"id", "name"} and entry["task"]["name"] == source.task
    reference = entry["external_reference"]
    assert reference["id"] == source.key
    assert reference["group_id"] == source.engagement_key
    assert reference["account_id"] and reference["permalink"].startswith("https://")
    assert STAMP.match(entry["created_at"]) and STAMP.match(entry["updated_at"])


async def test_hours_and_money_are_json_numbers_with_exact_decimal_text(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    source = next(t for t in harvest_entries(firm) if t.billable)
    found = await api.get("/v2/time_entries", params={"external_reference_id": source.key})
    text = found.text
    assert f'"hours":{source.hours}' in text
    assert f'"billable_rate":{source.bill_rate}' in text
    assert f'"cost_rate":{source.cost_rate}' in text
    entry = body(found)["time_entries"][0]
    assert isinstance(entry["hours"], Decimal) and str(entry["hours"]) == str(source.hours)


async def test_approval_and_invoicing_show_as_closed_locked_and_billed(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    billed = next(t for t in harvest_entries(firm) if t.invoice)
    open_entry = next(t for t in harvest_entries(firm) if not t.approved)
    entry = await entry_for(api, billed.key)
    assert entry["is_closed"] and entry["is_locked"] and entry["is_billed"]
    assert entry["approval_status"] == "approved"
    assert entry["invoice"]["number"] == billed.invoice
    assert entry["locked_reason"]
    entry = await entry_for(api, open_entry.key)
    assert not entry["is_closed"] and not entry["is_locked"] and not entry["is_billed"]
    assert entry["approval_status"] in ("submitted", "unsubmitted")
    assert entry["invoice"] is None and entry["locked_reason"] is None


async def test_projects_carry_the_engagement_key_as_code_and_the_client_currency(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    projects = body(await api.get("/v2/projects"))["projects"]
    engagements = {e.key: e for e in firm.engagements if "harvest" in e.present_in}
    assert sorted(p["code"] for p in projects) == sorted(engagements)
    for project in projects:
        engagement = engagements[project["code"]]
        assert project["client"]["currency"] == engagement.currency
        assert project["is_active"] is (engagement.status == "ACTIVE")
        assert project["starts_on"] == engagement.start_date.isoformat()
        assert project["is_fixed_fee"] is (engagement.billing_model == "FIXED_FEE")
    one = projects[0]
    assert body(await api.get(f"/v2/projects/{one['id']}")) == one


async def test_clients_are_the_firms_customers_with_their_currency(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    clients = body(await api.get("/v2/clients"))["clients"]
    assert sorted((c["name"], c["currency"]) for c in clients) == sorted(
        (c.name, c.currency) for c in firm.customers
    )


async def test_tasks_and_expense_categories_list_the_firms_names(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    tasks = body(await api.get("/v2/tasks"))["tasks"]
    assert sorted(t["name"] for t in tasks) == sorted({t.task for t in firm.time_entries})
    categories = body(await api.get("/v2/expense_categories"))["expense_categories"]
    assert sorted(c["name"] for c in categories) == sorted({x.category for x in firm.expenses})


async def test_expenses_have_harvests_shape_and_exact_total_cost(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    response = await api.get("/v2/expenses")
    payload = body(response)
    assert payload["total_entries"] == len(firm.expenses)
    expense = payload["expenses"][0]
    for key in ("total_cost", "units", "billable", "is_billed", "is_locked", "is_closed",
                "receipt", "expense_category", "project", "client", "user", "invoice"):  # fmt: skip
        assert key in expense
    assert isinstance(expense["total_cost"], Decimal)
    assert set(expense["expense_category"]) >= {"id", "name"}
    amounts = {str(x.amount) for x in firm.expenses}
    assert str(expense["total_cost"]) in amounts


async def test_ids_are_minted_deterministically_from_the_firm(firm: Firm) -> None:
    seen = []
    for _ in range(2):
        async with client_for(create_app(firm, rate_limit=None)) as client:
            page = body(await client.get("/v2/time_entries", params={"per_page": 50}))
            seen.append([(t["id"], t["external_reference"]["id"]) for t in page["time_entries"]])
    assert seen[0] == seen[1]


# -- pagination -----------------------------------------------------------------


async def test_the_first_page_holds_2000_entries_with_full_metadata(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    payload = body(await api.get("/v2/time_entries"))
    total = len(harvest_entries(firm))
    assert len(payload["time_entries"]) == 2000
    assert {k: payload[k] for k in PAGE_KEYS} == {
        "per_page": 2000,
        "total_pages": math.ceil(total / 2000),
        "total_entries": total,
        "next_page": 2,
        "previous_page": None,
        "page": 1,
    }
    links = payload["links"]
    assert links["first"].startswith(f"{BASE}/v2/time_entries?") and "page=1" in links["first"]
    assert f"page={math.ceil(total / 2000)}" in links["last"]
    assert links["previous"] is None
    assert "cursor=" in links["next"]


async def test_following_links_next_verbatim_visits_every_entry_once(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    page = body(await api.get("/v2/time_entries"))
    ids = [t["id"] for t in page["time_entries"]]
    pages = 1
    while page["links"]["next"]:
        page = body(await api.get(page["links"]["next"]))
        pages += 1
        assert (page["page"], page["next_page"], page["previous_page"]) == (None, None, None)
        ids += [t["id"] for t in page["time_entries"]]
    total = len(harvest_entries(firm))
    assert len(ids) == len(set(ids)) == total
    assert pages == math.ceil(total / 2000)
    assert page["links"]["next"] is None


async def test_entries_come_newest_first(api: httpx.AsyncClient) -> None:
    entries = body(await api.get("/v2/time_entries", params={"per_page": 500}))["time_entries"]
    keys = [(t["spent_date"], t["id"]) for t in entries]
    assert keys == sorted(keys, reverse=True)


async def test_the_cursor_carries_the_filters(api: httpx.AsyncClient, firm: Firm) -> None:
    codes = await project_ids(api)
    key = max(codes, key=lambda k: sum(t.engagement_key == k for t in firm.time_entries))
    first = await api.get("/v2/time_entries", params={"project_id": codes[key], "per_page": 40})
    assert "project_id" not in body(first)["links"]["next"]
    rows = await follow(api, first, "time_entries")
    assert {r["project"]["code"] for r in rows} == {key}
    assert len(rows) == sum(t.engagement_key == key for t in firm.time_entries)


async def test_page_parameter_serves_offset_pages(api: httpx.AsyncClient) -> None:
    everything = body(await api.get("/v2/time_entries", params={"per_page": 300}))
    second = body(await api.get("/v2/time_entries", params={"per_page": 100, "page": 2}))
    assert [t["id"] for t in second["time_entries"]] == [
        t["id"] for t in everything["time_entries"][100:200]
    ]
    assert (second["page"], second["previous_page"], second["next_page"]) == (2, 1, 3)
    assert "page=1" in second["links"]["previous"]


@pytest.mark.parametrize("per_page", ["2001", "0", "ten", "-5"])
async def test_a_per_page_outside_1_to_2000_is_422(api: httpx.AsyncClient, per_page: str) -> None:
    response = await api.get("/v2/time_entries", params={"per_page": per_page})
    assert response.status_code == 422
    assert "per_page" in body(response)["message"]


async def test_a_tampered_or_foreign_cursor_is_422(api: httpx.AsyncClient) -> None:
    projects = body(await api.get("/v2/projects", params={"per_page": 2}))
    foreign = projects["links"]["next"].split("cursor=")[1].split("&")[0]
    for cursor in ("not-a-cursor", "e30", foreign):
        response = await api.get("/v2/time_entries", params={"cursor": cursor})
        assert response.status_code == 422
        assert body(response) == {"message": "Invalid cursor"}


# -- filters ---------------------------------------------------------------------


async def test_filters_select_what_the_firm_says(api: httpx.AsyncClient, firm: Firm) -> None:
    entries = harvest_entries(firm)
    codes = await project_ids(api)
    users = await follow(api, await api.get("/v2/users"), "users")
    user_ids = {u["email"]: u["id"] for u in users}
    person = firm.people[3]
    sample = entries[len(entries) // 2]
    start, end = sample.spent_date, sample.spent_date + timedelta(days=6)
    cases: list[tuple[dict[str, Any], int]] = [
        ({"project_id": codes[sample.engagement_key]},
         sum(t.engagement_key == sample.engagement_key for t in entries)),
        ({"user_id": user_ids[person.email]}, sum(t.person == person.key for t in entries)),
        ({"from": start.isoformat(), "to": end.isoformat()},
         sum(start <= t.spent_date <= end for t in entries)),
        ({"is_billed": "true"}, sum(t.invoice is not None for t in entries)),
        ({"is_billed": "false", "from": start.isoformat()},
         sum(t.invoice is None and t.spent_date >= start for t in entries)),
        ({"approval_status": "approved"}, sum(t.approved for t in entries)),
        ({"external_reference_id": sample.key}, 1),
        ({"is_running": "true"}, 0),
    ]  # fmt: skip
    for params, expected in cases:
        payload = body(await api.get("/v2/time_entries", params={**params, "per_page": 1}))
        assert payload["total_entries"] == expected, params


async def test_client_filter_covers_all_of_the_clients_projects(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    clients = body(await api.get("/v2/clients"))["clients"]
    customer = next(c for c in firm.customers if any(e.customer == c.key for e in firm.engagements))
    client_id = next(c["id"] for c in clients if c["name"] == customer.name)
    keys = {e.key for e in firm.engagements if e.customer == customer.key}
    payload = body(await api.get("/v2/time_entries", params={"client_id": client_id}))
    assert payload["total_entries"] == sum(t.engagement_key in keys for t in firm.time_entries)
    projects = body(await api.get("/v2/projects", params={"client_id": client_id}))["projects"]
    assert {p["code"] for p in projects} == keys & set(await project_ids(api))


async def test_projects_filter_on_is_active(api: httpx.AsyncClient, firm: Firm) -> None:
    active = body(await api.get("/v2/projects", params={"is_active": "true"}))
    assert active["total_entries"] == sum(
        e.status == "ACTIVE" and "harvest" in e.present_in for e in firm.engagements
    )


@pytest.mark.parametrize(
    "params",
    [
        {"is_billed": "yes"},
        {"from": "2026-13-01"},
        {"user_id": "abc"},
        {"approval_status": "done"},
        {"updated_since": "yesterday"},
        {"projectid": "1"},
    ],
)
async def test_bad_filter_values_and_unknown_parameters_are_422(
    api: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await api.get("/v2/time_entries", params=params)
    assert response.status_code == 422
    assert body(response)["message"]


# -- writes -----------------------------------------------------------------------


async def new_entry_body(api: httpx.AsyncClient, firm: Firm, ref: str) -> dict[str, Any]:
    active = next(e for e in firm.engagements if e.status == "ACTIVE" and "harvest" in e.present_in)
    codes = await project_ids(api)
    task = body(await api.get("/v2/tasks"))["tasks"][0]
    return {
        "project_id": codes[active.key],
        "task_id": task["id"],
        "spent_date": firm.as_of.isoformat(),
        "hours": Decimal("2.50"),
        "notes": "Workshop prep",
        "external_reference": {"id": ref, "group_id": active.key},
    }


async def post_json(api: httpx.AsyncClient, path: str, payload: Any) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return await api.post(path, content=dumps(payload, ascii_only=True), headers=headers)


async def test_creating_a_time_entry_answers_201_with_the_object(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    payload = await new_entry_body(api, firm, "TE-NEW-1")
    response = await post_json(api, "/v2/time_entries", payload)
    assert response.status_code == 201
    created = body(response)
    assert set(created) == TIME_ENTRY_KEYS
    assert created["hours"] == Decimal("2.50") and '"hours":2.50' in response.text
    assert created["external_reference"]["id"] == "TE-NEW-1"
    assert created["approval_status"] == "unsubmitted" and not created["is_locked"]
    again = body(await api.get(f"/v2/time_entries/{created['id']}"))
    assert again == created


async def test_harvest_has_no_idempotency_so_a_repeated_post_duplicates(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    payload = await new_entry_body(api, firm, "TE-TWICE")
    first = await post_json(api, "/v2/time_entries", payload)
    second = await post_json(api, "/v2/time_entries", payload)
    assert first.status_code == second.status_code == 201
    assert body(first)["id"] != body(second)["id"]
    found = body(await api.get("/v2/time_entries", params={"external_reference_id": "TE-TWICE"}))
    assert found["total_entries"] == 2


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"project_id": None}, "project_id"),
        ({"project_id": 1}, "Project"),
        ({"hours": "2.5"}, "hours"),
        ({"hours": 25}, "hours"),
        ({"spent_date": "14/05/2026"}, "spent_date"),
        ({"billable_hours": 1}, "Unknown parameter"),
        ({"external_reference": "TE-1"}, "external_reference"),
    ],
)
async def test_invalid_time_entry_bodies_are_422_with_a_message(
    api: httpx.AsyncClient, firm: Firm, change: dict[str, Any], needle: str
) -> None:
    payload = {**(await new_entry_body(api, firm, "TE-BAD")), **change}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = await post_json(api, "/v2/time_entries", payload)
    assert response.status_code == 422
    assert needle in body(response)["message"]


async def test_malformed_json_is_400_and_a_non_object_is_422(api: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json"}
    broken = await api.post("/v2/time_entries", content="{not json", headers=headers)
    assert broken.status_code == 400 and body(broken)["message"]
    listed = await api.post("/v2/time_entries", content="[1, 2]", headers=headers)
    assert listed.status_code == 422


async def test_approving_closes_and_locks_the_entry_and_advances_updated_at(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    source = next(t for t in harvest_entries(firm) if not t.approved)
    before = await entry_for(api, source.key)
    response = await api.patch(f"/v2/time_entries/{before['id']}", json={"is_closed": True})
    assert response.status_code == 200
    after = body(response)
    assert after["is_closed"] is True and after["is_locked"] is True
    assert after["approval_status"] == "approved"
    assert after["locked_reason"] == "Item Approved and Locked for this Time Period"
    assert after["updated_at"] > before["updated_at"]
    again = await api.patch(f"/v2/time_entries/{before['id']}", json={"is_closed": True})
    assert again.status_code == 200
    assert body(again) == after  # a no-op: updated_at unchanged


async def test_locked_entries_refuse_changes_and_deletion_with_422(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    approved = next(t for t in harvest_entries(firm) if t.approved and not t.invoice)
    entry = await entry_for(api, approved.key)
    patched = await api.patch(f"/v2/time_entries/{entry['id']}", json={"notes": "changed"})
    assert patched.status_code == 422 and "locked" in body(patched)["message"]
    reopened = await api.patch(f"/v2/time_entries/{entry['id']}", json={"is_closed": False})
    assert reopened.status_code == 422
    deleted = await api.delete(f"/v2/time_entries/{entry['id']}")
    assert deleted.status_code == 422
    assert await entry_for(api, approved.key) == entry


async def test_approving_an_invoiced_entry_is_422(api: httpx.AsyncClient, firm: Firm) -> None:
    billed = next(t for t in harvest_entries(firm) if t.invoice)
    entry = await entry_for(api, billed.key)
    response = await api.patch(f"/v2/time_entries/{entry['id']}", json={"is_closed": True})
    assert response.status_code == 422
    assert "invoiced" in body(response)["message"]


async def test_an_open_entry_can_be_edited_and_polled_by_updated_since(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    source = next(t for t in harvest_entries(firm) if not t.approved)
    before = await entry_for(api, source.key)
    response = await api.patch(f"/v2/time_entries/{before['id']}", json={"notes": "Revised"})
    assert response.status_code == 200
    after = body(response)
    assert after["notes"] == "Revised" and after["updated_at"] > before["updated_at"]
    since = datetime.fromisoformat(after["updated_at"]).isoformat()
    changed = body(await api.get("/v2/time_entries", params={"updated_since": since}))
    assert [t["id"] for t in changed["time_entries"]] == [before["id"]]


async def test_deleting_an_open_entry_makes_it_404(api: httpx.AsyncClient, firm: Firm) -> None:
    source = next(t for t in harvest_entries(firm) if not t.approved)
    entry = await entry_for(api, source.key)
    deleted = await api.delete(f"/v2/time_entries/{entry['id']}")
    assert deleted.status_code == 200
    gone = await api.get(f"/v2/time_entries/{entry['id']}")
    assert gone.status_code == 404
    assert body(gone) == {"status": 404, "error": "Not Found"}


async def test_unknown_records_and_paths_are_404_in_harvests_shape(api: httpx.AsyncClient) -> None:
    for path in ("/v2/time_entries/1", "/v2/projects/999", "/v2/expenses/3", "/v2/nothing"):
        response = await api.get(path)
        assert response.status_code == 404, path
        assert body(response) == {"status": 404, "error": "Not Found"}


async def test_expenses_can_be_created_and_edited_until_locked(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    payload = await new_entry_body(api, firm, "unused")
    category = body(await api.get("/v2/expense_categories"))["expense_categories"][0]
    created = await post_json(
        api,
        "/v2/expenses",
        {
            "project_id": payload["project_id"],
            "expense_category_id": category["id"],
            "spent_date": payload["spent_date"],
            "total_cost": Decimal("2.50"),
        },
    )
    assert created.status_code == 201
    expense = body(created)
    assert expense["total_cost"] == Decimal("2.50") and expense["is_locked"] is False
    edited = await api.patch(f"/v2/expenses/{expense['id']}", json={"notes": "Taxi"})
    assert edited.status_code == 200 and body(edited)["notes"] == "Taxi"
    assert body(edited)["updated_at"] > expense["updated_at"]
    locked = next(x for x in body(await api.get("/v2/expenses"))["expenses"] if x["is_locked"])
    refused = await api.patch(f"/v2/expenses/{locked['id']}", json={"notes": "Taxi"})
    assert refused.status_code == 422
    missing = await post_json(api, "/v2/expenses", {"project_id": payload["project_id"]})
    assert missing.status_code == 422


# -- the Uninvoiced report (Reports API) --------------------------------------------

REPORT = "/v2/reports/uninvoiced"
REPORT_ROW_KEYS = {
    "client_id", "client_name", "project_id", "project_name", "currency", "total_hours",
    "uninvoiced_hours", "uninvoiced_expenses", "uninvoiced_amount",
}  # fmt: skip
Sums = dict[int, dict[str, Decimal]]


def year_to(end: date) -> dict[str, str]:
    """The longest window the report allows (365 days, inclusive), as compact dates."""
    return {"from": f"{end - timedelta(days=364):%Y%m%d}", "to": f"{end:%Y%m%d}"}


async def report_rows(api: httpx.AsyncClient, params: dict[str, str]) -> dict[int, dict[str, Any]]:
    page = body(await api.get(REPORT, params=params))
    assert page["total_pages"] == 1
    return {row["project_id"]: row for row in page["results"]}


Listed = tuple[list[dict[str, Any]], list[dict[str, Any]]]


async def listed(api: httpx.AsyncClient, start: date, end: date) -> Listed:
    """The raw time entries and expenses spent from `start` to `end`, every page."""
    window = {"from": start.isoformat(), "to": end.isoformat()}
    entries = await follow(api, await api.get("/v2/time_entries", params=window), "time_entries")
    expenses = await follow(api, await api.get("/v2/expenses", params=window), "expenses")
    return entries, expenses


def sums_of(rows: Listed, *, include_unapproved: bool = False) -> Sums:
    """Per project, what the report should say, summed from the raw listings."""
    entries, expenses = rows
    zero = Decimal(0)
    sums: Sums = defaultdict(lambda: defaultdict(lambda: zero))

    def pending(row: dict[str, Any]) -> bool:
        return row["billable"] and not row["is_billed"] and (include_unapproved or row["is_closed"])

    for entry in entries:
        project = sums[entry["project"]["id"]]
        project["total_hours"] += entry["hours"]
        if pending(entry):
            project["uninvoiced_hours"] += entry["hours"]
            project["time"] += entry["hours"] * entry["billable_rate"]
    for expense in expenses:
        project = sums[expense["project"]["id"]]
        if pending(expense):
            project["uninvoiced_expenses"] += expense["total_cost"]
    return sums


def assert_report_matches(rows: dict[int, dict[str, Any]], sums: Sums) -> None:
    assert set(rows) == set(sums)
    for project_id, row in rows.items():
        expected = sums[project_id]
        assert row["total_hours"] == expected["total_hours"], project_id
        assert row["uninvoiced_hours"] == expected["uninvoiced_hours"], project_id
        assert row["uninvoiced_expenses"] == expected["uninvoiced_expenses"], project_id
        amount = expected["time"] + expected["uninvoiced_expenses"]
        assert row["uninvoiced_amount"] == amount, project_id


async def test_the_uninvoiced_report_has_harvests_shape_and_page_metadata(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    response = await api.get(REPORT, params=year_to(firm.as_of))
    assert response.status_code == 200
    payload = body(response)
    assert set(payload) == {"results", "links", *PAGE_KEYS}
    rows = payload["results"]
    assert {k: payload[k] for k in PAGE_KEYS} == {
        "per_page": 2000,
        "total_pages": 1,
        "total_entries": len(rows),
        "next_page": None,
        "previous_page": None,
        "page": 1,
    }
    links = payload["links"]
    assert links["first"] == links["last"]
    assert links["first"] == f"{BASE}{REPORT}?from=20251101&page=1&per_page=2000&to=20261031"
    assert links["next"] is None and links["previous"] is None
    projects = {p["id"]: p for p in body(await api.get("/v2/projects"))["projects"]}
    assert 0 < len(rows) <= len(projects)
    for row in rows:
        assert set(row) == REPORT_ROW_KEYS
        project = projects[row["project_id"]]
        assert (row["project_name"], row["client_id"]) == (project["name"], project["client"]["id"])
        assert (row["client_name"], row["currency"]) == (
            project["client"]["name"],
            project["client"]["currency"],
        )
        for key in ("total_hours", "uninvoiced_hours", "uninvoiced_expenses", "uninvoiced_amount"):
            assert isinstance(row[key], Decimal | int) and not isinstance(row[key], bool)
    ordered = [(r["client_name"], r["project_name"]) for r in rows]
    assert ordered == sorted(ordered)


async def test_the_report_counts_only_approved_billable_uninvoiced_work(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    end = firm.as_of
    start = end - timedelta(days=364)
    rows = await report_rows(api, year_to(end))
    raw = await listed(api, start, end)
    approved = sums_of(raw)
    assert_report_matches(rows, approved)
    everything = sums_of(raw, include_unapproved=True)
    unapproved = [
        p for p in everything if everything[p]["uninvoiced_hours"] > approved[p]["uninvoiced_hours"]
    ]
    assert unapproved  # work awaiting approval exists, and the report left it out
    assert any(row["uninvoiced_expenses"] > 0 for row in rows.values())
    assert any(row["total_hours"] > row["uninvoiced_hours"] for row in rows.values())


async def test_the_report_can_be_switched_to_count_unapproved_work(firm: Firm) -> None:
    app = create_app(firm, rate_limit=None, uninvoiced_includes_unapproved=True)
    end = firm.as_of
    start = end - timedelta(days=59)
    async with client_for(app) as client:
        rows = await report_rows(client, {"from": f"{start:%Y%m%d}", "to": f"{end:%Y%m%d}"})
        raw = await listed(client, start, end)
    assert_report_matches(rows, sums_of(raw, include_unapproved=True))
    approved = sums_of(raw)
    assert any(rows[p]["uninvoiced_hours"] > approved[p]["uninvoiced_hours"] for p in rows)


async def test_a_short_window_sums_only_the_work_spent_in_it(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    rows = await report_rows(api, {"from": start.isoformat(), "to": end.isoformat()})
    assert_report_matches(rows, sums_of(await listed(api, start, end)))


async def test_approving_time_moves_it_into_the_uninvoiced_report(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    source = next(t for t in reversed(harvest_entries(firm)) if t.billable and not t.approved)
    entry = await entry_for(api, source.key)
    window = year_to(firm.as_of)
    before = (await report_rows(api, window))[entry["project"]["id"]]
    await api.patch(f"/v2/time_entries/{entry['id']}", json={"is_closed": True})
    after = (await report_rows(api, window))[entry["project"]["id"]]
    assert after["uninvoiced_hours"] == before["uninvoiced_hours"] + source.hours
    assert after["uninvoiced_amount"] == before["uninvoiced_amount"] + source.hours * (
        source.bill_rate
    )
    assert after["total_hours"] == before["total_hours"]


async def test_report_amounts_are_exact_numbers_without_trailing_zeros(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    response = await api.get(REPORT, params=year_to(firm.as_of))
    rows = body(response)["results"]
    row = next(r for r in rows if isinstance(r["uninvoiced_amount"], Decimal))
    text = format(row["uninvoiced_amount"], "f")
    assert f'"uninvoiced_amount":{text}' in response.text
    assert not text.endswith("0")
    assert '"uninvoiced_hours":0,' in response.text


async def test_report_dates_may_be_compact_or_iso(api: httpx.AsyncClient) -> None:
    compact = body(await api.get(REPORT, params={"from": "20260101", "to": "20260630"}))
    iso = body(await api.get(REPORT, params={"from": "2026-01-01", "to": "2026-06-30"}))
    mixed = body(await api.get(REPORT, params={"from": "20260101", "to": "2026-06-30"}))
    assert compact["results"] == iso["results"] == mixed["results"]
    assert compact["results"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [({}, "from and to"), ({"from": "20260101"}, "to"), ({"to": "20260101"}, "from")],
)
async def test_the_report_requires_from_and_to(
    api: httpx.AsyncClient, params: dict[str, str], needle: str
) -> None:
    response = await api.get(REPORT, params=params)
    assert response.status_code == 422
    assert body(response) == {"message": f"{needle} {'are' if ' ' in needle else 'is'} required"}


async def test_a_timeframe_longer_than_365_days_is_422(api: httpx.AsyncClient) -> None:
    year = await api.get(REPORT, params={"from": "20250101", "to": "20251231"})
    assert year.status_code == 200
    leap = await api.get(REPORT, params={"from": "20240101", "to": "20241231"})
    assert leap.status_code == 422
    assert "365 days" in body(leap)["message"]
    backwards = await api.get(REPORT, params={"from": "20260201", "to": "20260101"})
    assert backwards.status_code == 422 and set(body(backwards)) == {"message"}


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01"},
        {"from": "2026/01/01"},
        {"from": "260101"},
        {"per_page": "2001"},
        {"include_fixed_fee": "yes"},
        {"project_id": "1"},
        {"cursor": "e30"},
    ],
)
async def test_bad_report_parameters_are_422(
    api: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await api.get(REPORT, params={"from": "20260101", "to": "20260131", **params})
    assert response.status_code == 422
    assert set(body(response)) == {"message"}


async def test_report_pages_are_numbered_and_cover_every_project(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    window = year_to(firm.as_of)
    everything = body(await api.get(REPORT, params=window))["results"]
    first = await api.get(REPORT, params={**window, "per_page": "7"})
    page = body(first)
    assert (page["page"], page["next_page"], page["previous_page"]) == (1, 2, None)
    assert page["total_pages"] == math.ceil(len(everything) / 7)
    assert "page=2" in page["links"]["next"] and "cursor" not in page["links"]["next"]
    rows = await follow(api, first, "results")
    assert rows == everything
    past = body(await api.get(REPORT, params={**window, "per_page": "7", "page": "999"}))
    assert past["results"] == [] and past["next_page"] is None


async def test_include_fixed_fee_false_leaves_fixed_fee_projects_out(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    window = year_to(firm.as_of)
    fixed = {p["id"] for p in body(await api.get("/v2/projects"))["projects"] if p["is_fixed_fee"]}
    every = await report_rows(api, window)
    some = await report_rows(api, {**window, "include_fixed_fee": "false"})
    assert fixed & set(every)
    assert set(some) == set(every) - fixed


async def test_reports_have_their_own_limit_of_100_per_15_minutes(firm: Firm) -> None:
    clock = FakeClock(5000.0)
    day = {"from": "20261031", "to": "20261031"}
    async with client_for(create_app(firm, clock=clock)) as client:
        statuses = [(await client.get(REPORT, params=day)).status_code for _ in range(101)]
        assert statuses.count(200) == 100 and statuses[-1] == 429
        refused = await client.get(REPORT, params=day)
        assert refused.headers["Retry-After"] == "900" and body(refused)["message"]
        assert (await client.get("/v2/company")).status_code == 200  # another window
        clock.now += 900
        assert (await client.get(REPORT, params=day)).status_code == 200


# -- throttling -----------------------------------------------------------------


async def test_over_the_rate_limit_answers_429_with_retry_after_until_the_window_frees(
    firm: Firm,
) -> None:
    clock = FakeClock(5000.0)
    app = create_app(firm, rate_limit=3, rate_window_s=15, clock=clock)
    async with client_for(app) as client:
        for _ in range(3):
            assert (await client.get("/v2/company")).status_code == 200
            clock.now += 1
        refused = await client.get("/v2/company")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "12"
        assert body(refused)["message"]
        clock.now += 12
        assert (await client.get("/v2/company")).status_code == 200


async def test_the_rate_limit_counts_per_token_and_account(firm: Firm) -> None:
    clock = FakeClock(5000.0)
    tokens = {HARVEST_TOKEN: [HARVEST_ACCOUNT_ID], "other-token": ["7654321"]}
    app = create_app(firm, rate_limit=1, clock=clock, tokens=tokens)
    other = {**AUTH, "Authorization": "Bearer other-token", "Harvest-Account-Id": "7654321"}
    async with client_for(app) as mine, client_for(app, other) as theirs:
        assert (await mine.get("/v2/company")).status_code == 200
        assert (await theirs.get("/v2/company")).status_code == 200
        assert (await mine.get("/v2/company")).status_code == 429


async def test_the_default_limit_is_100_requests_per_15_seconds(firm: Firm) -> None:
    clock = FakeClock(5000.0)
    async with client_for(create_app(firm, clock=clock)) as client:
        statuses = [(await client.get("/v2/company")).status_code for _ in range(101)]
        assert statuses.count(200) == 100 and statuses[-1] == 429
        clock.now += 15
        assert (await client.get("/v2/company")).status_code == 200


# -- control plane ----------------------------------------------------------------


async def test_calls_are_counted_by_endpoint(app: Starlette, api: httpx.AsyncClient) -> None:
    await api.get("/v2/company")
    await api.get("/v2/time_entries", params={"per_page": 1})
    await api.get("/v2/time_entries", params={"per_page": 1})
    calls = body(await api.get("/__sandbox/calls"))
    assert calls == {
        "total": 3,
        "by_endpoint": {"GET /v2/company": 1, "GET /v2/time_entries": 2},
    }


async def test_error_rate_one_answers_harvests_server_error(api: httpx.AsyncClient) -> None:
    await api.post("/__sandbox/faults", json={"error_rate": 1})
    response = await api.get("/v2/company")
    assert response.status_code in (500, 503)
    assert set(body(response)) == {"message"}


async def test_rate_limit_rate_one_answers_429_with_the_configured_retry_after(
    api: httpx.AsyncClient,
) -> None:
    await api.post("/__sandbox/faults", json={"rate_limit_rate": 1, "retry_after_s": 7})
    response = await api.get("/v2/company")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert body(response) == {"message": "Too many requests"}


async def test_reset_restores_the_seeded_state(api: httpx.AsyncClient, firm: Firm) -> None:
    source = next(t for t in harvest_entries(firm) if not t.approved)
    before = await entry_for(api, source.key)
    await api.patch(f"/v2/time_entries/{before['id']}", json={"is_closed": True})
    await post_json(api, "/v2/time_entries", await new_entry_body(api, firm, "TE-RESET"))
    await api.post("/__sandbox/faults", json={"latency_ms": 1})
    assert (await api.post("/__sandbox/reset")).status_code == 200
    assert await entry_for(api, source.key) == before
    gone = body(await api.get("/v2/time_entries", params={"external_reference_id": "TE-RESET"}))
    assert gone["total_entries"] == 0
    assert body(await api.get("/__sandbox/faults"))["latency_ms"] == 0
    assert body(await api.get("/__sandbox/calls"))["by_endpoint"] == {"GET /v2/time_entries": 2}
