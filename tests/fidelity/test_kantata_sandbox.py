"""Fidelity of the Kantata sandbox to Kantata OX API v1 (vendor-apis.md §2), over raw HTTP."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from sandboxes.firm import Firm
from sandboxes.kantata import KANTATA_TOKEN, create_app
from tests.support import decimal_json as body

BASE = "http://kantata.test"
AUTH = {"Authorization": f"Bearer {KANTATA_TOKEN}"}


@pytest.fixture
def app(firm: Firm) -> Starlette:
    return create_app(firm)


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=AUTH) as client:
        yield client


def kantata_engagements(firm: Firm) -> list[str]:
    return [e.key for e in firm.engagements if "kantata" in e.present_in]


async def all_records(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        payload = body(await api.get(path, params={**params, "page": page, "per_page": 200}))
        records += [payload[r["key"]][r["id"]] for r in payload["results"]]
        if payload["meta"]["page_number"] >= payload["meta"]["page_count"]:
            return records
        page += 1


# -- envelope, ids, casing ----------------------------------------------------


async def test_a_listing_answers_with_the_envelope_and_string_keyed_maps(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    response = await api.get("/api/v1/workspaces.json")
    assert response.status_code == 200
    payload = body(response)
    total = len(kantata_engagements(firm))
    assert payload["count"] == total
    assert payload["meta"] == {
        "count": total,
        "page_count": math.ceil(total / 20),
        "page_number": 1,
        "page_size": 20,
    }
    assert len(payload["results"]) == 20
    for result in payload["results"]:
        assert result["key"] == "workspaces"
        assert isinstance(result["id"], str) and result["id"].isdigit()
        assert payload["workspaces"][result["id"]]["id"] == result["id"]
    ids = [int(r["id"]) for r in payload["results"]]
    assert ids == sorted(ids)


async def test_resources_answer_with_or_without_the_json_suffix(api: httpx.AsyncClient) -> None:
    with_suffix = body(await api.get("/api/v1/users.json", params={"per_page": 3}))
    without = body(await api.get("/api/v1/users", params={"per_page": 3}))
    assert with_suffix == without
    some_id = with_suffix["results"][0]["id"]
    one = await api.get(f"/api/v1/users/{some_id}")
    assert one.status_code == 200
    assert body(one)["results"] == [{"key": "users", "id": some_id}]


async def test_workspace_fields_use_vendor_names_and_integer_cents(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    engagements = {e.key: e for e in firm.engagements if "kantata" in e.present_in}
    payload = body(
        await api.get(
            "/api/v1/workspaces.json",
            params={
                "external_reference_service_model_refs": ",".join(engagements),
                "include": "external_references",
                "per_page": 200,
            },
        )
    )
    assert payload["count"] == len(engagements)
    for workspace in payload["workspaces"].values():
        assert {
            "id", "title", "description", "start_date", "due_date", "budgeted", "price_in_cents",
            "currency", "archived", "status", "percentage_complete", "creator_id", "updated_at",
        } <= set(workspace)  # fmt: skip
        assert set(workspace["status"]) == {"color", "key", "message"}
        assert "participant_ids" not in workspace
        [ref_id] = workspace["external_reference_ids"]
        engagement = engagements[payload["external_references"][ref_id]["service_model_ref"]]
        assert workspace["title"] == engagement.name
        assert workspace["price_in_cents"] == int(engagement.contract_value * 100)
        assert workspace["currency"] == engagement.currency
        assert workspace["start_date"] == engagement.start_date.isoformat()
        assert workspace["due_date"] == engagement.end_date.isoformat()


async def test_ids_are_minted_deterministically_from_the_firm(firm: Firm) -> None:
    first, second = create_app(firm), create_app(firm)
    payloads = []
    for app in (first, second):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=AUTH) as api:
            payloads.append(body(await api.get("/api/v1/stories.json", params={"per_page": 50})))
    assert payloads[0] == payloads[1]


def test_state_is_built_quickly_from_the_firm(firm: Firm) -> None:
    started = time.perf_counter()
    create_app(firm)
    assert time.perf_counter() - started < 0.3


# -- include -------------------------------------------------------------------


async def test_association_ids_appear_only_when_included(api: httpx.AsyncClient) -> None:
    plain = body(await api.get("/api/v1/workspaces.json", params={"per_page": 5}))
    assert "users" not in plain
    assert all("participant_ids" not in w for w in plain["workspaces"].values())

    included = body(
        await api.get("/api/v1/workspaces.json", params={"per_page": 5, "include": "participants"})
    )
    for workspace in included["workspaces"].values():
        assert isinstance(workspace["participant_ids"], list)
        for user_id in workspace["participant_ids"]:
            assert included["users"][user_id]["id"] == user_id


async def test_nested_includes_side_load_into_the_same_maps(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    payload = body(
        await api.get(
            "/api/v1/rate_card_set_versions.json",
            params={"include": "rate_card_roles.role,rate_card_set"},
        )
    )
    expected = {(r.version, r.currency, r.role): int(r.bill_rate * 100) for r in firm.rate_card}
    seen = {}
    for result in payload["results"]:
        version = payload["rate_card_set_versions"][result["id"]]
        rate_set = payload["rate_card_sets"][version["rate_card_set_id"]]
        assert rate_set["currency"] == version["currency"]
        for role_rate_id in version["rate_card_role_ids"]:
            role_rate = payload["rate_card_roles"][role_rate_id]
            role = payload["roles"][role_rate["role_id"]]
            seen[(version["title"], role_rate["currency"], role["name"])] = role_rate[
                "rate_in_cents"
            ]
    assert seen == expected


async def test_unknown_include_names_are_ignored(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/users.json", params={"include": "nonsense,more.nonsense"})
    assert response.status_code == 200
    assert set(body(response)) == {"count", "meta", "results", "users"}


# -- paging and filters ----------------------------------------------------------


async def test_pages_cover_every_record_exactly_once(api: httpx.AsyncClient, firm: Firm) -> None:
    seen: list[str] = []
    page = 1
    while True:
        payload = body(await api.get("/api/v1/users.json", params={"page": page, "per_page": 7}))
        seen += [r["id"] for r in payload["results"]]
        assert payload["meta"]["page_count"] == math.ceil(len(firm.people) / 7)
        if payload["meta"]["page_number"] >= payload["meta"]["page_count"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == len(firm.people)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": "201"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
        ({"page": "abc"}, "page"),
        ({"order": "colour:asc"}, "order"),
        ({"archived": "maybe"}, "archived"),
        ({"updated_after": "yesterday"}, "updated_after"),
        ({"only": ",".join(str(i) for i in range(201))}, "only"),
    ],
)
async def test_bad_query_parameters_are_422_validation_errors(
    api: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await api.get("/api/v1/workspaces.json", params=params)
    assert response.status_code == 422
    [error] = body(response)["errors"]
    assert error["type"] == "validation"
    assert error["field"] == field
    assert error["message"]


async def test_only_returns_the_listed_ids_that_exist(api: httpx.AsyncClient) -> None:
    first = body(await api.get("/api/v1/workspaces.json", params={"per_page": 3}))
    wanted = [r["id"] for r in first["results"]] + ["999999999"]
    payload = body(await api.get("/api/v1/workspaces.json", params={"only": ",".join(wanted)}))
    assert [r["id"] for r in payload["results"]] == wanted[:3]


async def test_external_reference_refs_find_the_linked_workspaces(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    keys = [*kantata_engagements(firm)[:5], "ENG-1999-00000"]
    payload = body(
        await api.get(
            "/api/v1/workspaces.json",
            params={
                "external_reference_service_model_refs": ",".join(keys),
                "include": "external_references",
            },
        )
    )
    linked = {
        ref["service_model_ref"]
        for w in payload["workspaces"].values()
        for ref in (payload["external_references"][i] for i in w["external_reference_ids"])
    }
    assert linked == set(keys[:5])
    for ref in payload["external_references"].values():
        assert ref["subject_type"] == "Workspace"
        assert ref["service_name"] == "engagement-gateway"
        assert ref["service_model"] == "engagement"


async def test_workspace_id_filter_accepts_several_ids(api: httpx.AsyncClient) -> None:
    workspaces = body(await api.get("/api/v1/workspaces.json", params={"per_page": 3}))
    ids = [r["id"] for r in workspaces["results"]]
    payload = body(
        await api.get(
            "/api/v1/workspace_resources.json",
            params={"workspace_id": ",".join(ids), "per_page": 200},
        )
    )
    found = {r["workspace_id"] for r in payload["workspace_resources"].values()}
    assert found and found <= set(ids)


async def test_story_type_and_workspace_filters_select_milestones(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    stories = await all_records(api, "/api/v1/stories.json", story_type="milestone")
    in_kantata = set(kantata_engagements(firm))
    assert len(stories) == sum(1 for m in firm.milestones if m.engagement_key in in_kantata)
    assert {s["story_type"] for s in stories} == {"milestone"}
    accepted = sum(1 for m in firm.milestones if m.accepted and m.engagement_key in in_kantata)
    assert sum(1 for s in stories if s["state"] == "accepted") == accepted


async def test_staffing_is_workspace_resources_with_allocations(
    api: httpx.AsyncClient, firm: Firm
) -> None:
    resources = body(
        await api.get(
            "/api/v1/workspace_resources.json",
            params={"per_page": 200, "include": "user,role,workspace_allocations"},
        )
    )
    assert "workspace_allocations" in resources
    by_email = {p.email: p for p in firm.people}
    expected = {
        (a.person, a.role, a.allocation_percent, a.start_date.isoformat()) for a in firm.assignments
    }
    for resource in resources["workspace_resources"].values():
        user = resources["users"][resource["user_id"]]
        role = resources["roles"][resource["role_id"]]
        [allocation_id] = resource["workspace_allocation_ids"]
        allocation = resources["workspace_allocations"][allocation_id]
        assert allocation["workspace_resource_id"] == resource["id"]
        assert "workspace_id" not in allocation  # only with include=workspace
        assert isinstance(allocation["minutes"], int) and allocation["minutes"] > 0
        person = by_email[user["email_address"]].key
        key = (person, role["name"], int(allocation["percentage"]), allocation["start_date"])
        assert key in expected


async def test_fractional_numbers_are_written_as_exact_json_numbers(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/api/v1/workspace_allocations.json", params={"per_page": 1})
    text = response.text
    assert '"percentage":' in text
    value = body(response)
    [allocation] = value["workspace_allocations"].values()
    assert isinstance(allocation["percentage"], Decimal)
    assert f'"percentage":{allocation["percentage"]}' in text


async def test_updated_after_with_order_polls_changes_incrementally(
    api: httpx.AsyncClient,
) -> None:
    newest = body(
        await api.get("/api/v1/workspaces.json", params={"order": "updated_at:desc", "per_page": 1})
    )
    [watermark] = [w["updated_at"] for w in newest["workspaces"].values()]
    quiet = body(await api.get("/api/v1/workspaces.json", params={"updated_after": watermark}))
    assert quiet["count"] == 0 and quiet["meta"]["page_count"] == 0

    some = body(await api.get("/api/v1/workspaces.json", params={"per_page": 2}))
    first, second = (r["id"] for r in some["results"])
    for workspace_id in (second, first):
        put = await api.put(
            f"/api/v1/workspaces/{workspace_id}.json", json={"workspace": {"description": "x"}}
        )
        assert put.status_code == 200
    changed = body(
        await api.get(
            "/api/v1/workspaces.json",
            params={"updated_after": watermark, "order": "updated_at:asc"},
        )
    )
    assert [r["id"] for r in changed["results"]] == [second, first]


# -- auth and errors -------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "x"}])
async def test_missing_or_unknown_bearer_is_401_oauth(
    app: Starlette, headers: dict[str, str]
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as anon:
        response = await anon.get("/api/v1/workspaces.json")
    assert response.status_code == 401
    [error] = body(response)["errors"]
    assert error["type"] == "oauth" and error["message"]


async def test_unknown_records_and_routes_are_404_system_errors(api: httpx.AsyncClient) -> None:
    for path in ("/api/v1/workspaces/12.json", "/api/v1/stories/0", "/api/v1/teapots.json"):
        response = await api.get(path)
        assert response.status_code == 404
        [error] = body(response)["errors"]
        assert error["type"] == "system" and error["message"]
    put = await api.put("/api/v1/stories/1.json", json={"story": {"state": "started"}})
    assert put.status_code == 404


async def test_users_me_is_the_token_owner(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/users/me.json")
    assert response.status_code == 200
    [result] = body(response)["results"]
    assert result["key"] == "users"


# -- writes ----------------------------------------------------------------------------


async def test_creating_a_workspace_answers_201_with_the_envelope(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/workspaces.json",
        json={
            "workspace": {
                "title": "New Project",
                "start_date": "2026-11-02",
                "due_date": "2027-03-31",
                "price_in_cents": 12345678,
                "currency": "EUR",
                "no_such_field": "ignored",
            }
        },
    )
    assert response.status_code == 201
    payload = body(response)
    [result] = payload["results"]
    workspace = payload["workspaces"][result["id"]]
    assert workspace["title"] == "New Project"
    assert workspace["price_in_cents"] == 12345678 and workspace["budgeted"] is True
    assert workspace["status"]["message"] == "Not Started"
    assert "no_such_field" not in workspace
    fetched = body(await api.get(f"/api/v1/workspaces/{result['id']}.json"))
    assert fetched["workspaces"][result["id"]] == workspace


@pytest.mark.parametrize(
    ("attrs", "field", "message"),
    [
        ({"title": ""}, "title", "Title can't be blank"),
        ({"description": "no title"}, "title", "Title can't be blank"),
        (
            {"title": "x", "price_in_cents": "100"},
            "price_in_cents",
            "Price in cents is not a number",
        ),
        (
            {"title": "x", "start_date": "2026-02-30"},
            "start_date",
            "Start date is not a valid date",
        ),
        ({"title": "x", "start_date": "2026-05-01", "due_date": "2026-04-01"}, "due_date", None),
    ],
)
async def test_invalid_workspaces_are_422_with_the_field(
    api: httpx.AsyncClient, attrs: dict[str, Any], field: str, message: str | None
) -> None:
    response = await api.post("/api/v1/workspaces.json", json={"workspace": attrs})
    assert response.status_code == 422
    [error] = body(response)["errors"]
    assert error["type"] == "validation" and error["field"] == field
    if message:
        assert error["message"] == message


@pytest.mark.parametrize("content", [b"{not json", b'{"title": "no root key"}', b"[]"])
async def test_malformed_bodies_are_400(api: httpx.AsyncClient, content: bytes) -> None:
    response = await api.post(
        "/api/v1/workspaces.json", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert body(response)["errors"][0]["type"] == "system"


async def test_updates_advance_updated_at(api: httpx.AsyncClient) -> None:
    listing = body(await api.get("/api/v1/stories.json", params={"story_type": "milestone"}))
    story_id = next(r["id"] for r in listing["results"])
    before = listing["stories"][story_id]["updated_at"]
    first = body(
        await api.put(f"/api/v1/stories/{story_id}.json", json={"story": {"state": "completed"}})
    )
    second = body(
        await api.put(f"/api/v1/stories/{story_id}.json", json={"story": {"state": "accepted"}})
    )
    stamps = [
        before,
        first["stories"][story_id]["updated_at"],
        second["stories"][story_id]["updated_at"],
    ]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert second["stories"][story_id]["state"] == "accepted"


async def test_accepted_is_only_a_milestone_state(api: httpx.AsyncClient) -> None:
    workspace_id = body(await api.get("/api/v1/workspaces.json"))["results"][0]["id"]
    created = await api.post(
        "/api/v1/stories.json", json={"story": {"workspace_id": workspace_id, "title": "Task"}}
    )
    assert created.status_code == 201
    story_id = body(created)["results"][0]["id"]
    assert body(created)["stories"][story_id]["story_type"] == "task"
    refused = await api.put(
        f"/api/v1/stories/{story_id}.json", json={"story": {"state": "accepted"}}
    )
    assert refused.status_code == 422
    assert body(refused)["errors"][0]["field"] == "state"


async def test_a_second_identical_external_reference_is_refused(api: httpx.AsyncClient) -> None:
    created = body(await api.post("/api/v1/workspaces.json", json={"workspace": {"title": "Y"}}))
    workspace_id = created["results"][0]["id"]
    reference = {
        "external_reference": {
            "subject_type": "Workspace",
            "subject_id": workspace_id,
            "service_name": "engagement-gateway",
            "service_model": "engagement",
            "service_model_ref": "ENG-2099-00001",
        }
    }
    first = await api.post("/api/v1/external_references.json", json=reference)
    assert first.status_code == 201
    again = await api.post("/api/v1/external_references.json", json=reference)
    assert again.status_code == 422
    assert body(again)["errors"][0]["field"] == "service_model_ref"
    found = body(
        await api.get(
            "/api/v1/workspaces.json",
            params={"external_reference_service_model_refs": "ENG-2099-00001"},
        )
    )
    assert [r["id"] for r in found["results"]] == [workspace_id]


async def test_an_external_reference_needs_an_existing_subject(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/external_references.json",
        json={
            "external_reference": {
                "subject_type": "Workspace",
                "subject_id": "1",
                "service_name": "s",
                "service_model": "m",
                "service_model_ref": "r",
            }
        },
    )
    assert response.status_code == 422
    assert body(response)["errors"][0]["field"] == "subject_id"


# -- control plane -------------------------------------------------------------------------


async def test_calls_are_counted_per_endpoint(api: httpx.AsyncClient) -> None:
    await api.get("/api/v1/users.json")
    await api.get("/api/v1/users.json")
    await api.get("/api/v1/roles.json")
    calls = (await api.get("/__sandbox/calls")).json()
    assert calls["by_endpoint"] == {"GET /api/v1/roles.json": 1, "GET /api/v1/users.json": 2}
    assert calls["total"] == 3


async def test_error_rate_one_gives_kantata_server_errors(api: httpx.AsyncClient) -> None:
    await api.post("/__sandbox/faults", json={"error_rate": 1})
    response = await api.get("/api/v1/users.json")
    assert response.status_code in (500, 503)
    assert body(response)["errors"][0]["type"] == "system"


async def test_rate_limit_rate_one_gives_429_with_retry_after(api: httpx.AsyncClient) -> None:
    await api.post("/__sandbox/faults", json={"rate_limit_rate": 1, "retry_after_s": 7})
    response = await api.get("/api/v1/users.json")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert body(response)["errors"][0]["type"] == "rate_limit"


async def test_reset_restores_the_seeded_state(api: httpx.AsyncClient) -> None:
    before = body(await api.get("/api/v1/workspaces.json"))["count"]
    created = await api.post("/api/v1/workspaces.json", json={"workspace": {"title": "Temp"}})
    new_id = body(created)["results"][0]["id"]
    await api.post("/__sandbox/faults", json={"latency_ms": 1})
    assert (await api.post("/__sandbox/reset")).json() == {"reset": True}
    assert body(await api.get("/api/v1/workspaces.json"))["count"] == before
    assert (await api.get(f"/api/v1/workspaces/{new_id}.json")).status_code == 404
    assert (await api.get("/__sandbox/faults")).json()["latency_ms"] == 0
    again = await api.post("/api/v1/workspaces.json", json={"workspace": {"title": "Temp"}})
    assert body(again)["results"][0]["id"] == new_id  # the id sequence restarts too


# -- robustness: bad input never becomes a 500 ---------------------------------------------


def request_once(firm: Firm, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request to a fresh sandbox, from synchronous (hypothesis) tests."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(firm))
        async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=AUTH) as api:
            return await api.request(method, path, **kwargs)

    return asyncio.run(send())


_PARAMS = st.dictionaries(
    st.sampled_from(
        ["page", "per_page", "only", "include", "order", "archived", "updated_after", "matching",
         "workspace_id", "story_type", "external_reference_service_model_refs"]
    ),
    st.text(max_size=30),
    max_size=5,
)  # fmt: skip
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=15), inner, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    resource=st.sampled_from(["workspaces", "stories", "users", "workspace_allocations"]),
    params=_PARAMS,
)
def test_any_query_string_gets_a_vendor_answer(
    firm: Firm, resource: str, params: dict[str, str]
) -> None:
    response = request_once(firm, "GET", f"/api/v1/{resource}.json", params=params)
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert body(response)["errors"][0]["type"] == "validation"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.sampled_from(
        [("POST", "workspaces", "workspace"), ("POST", "stories", "story"),
         ("POST", "external_references", "external_reference"),
         ("PUT", "workspaces/310001", "workspace"), ("PUT", "stories/850001", "story")]
    ),
    attrs=st.dictionaries(
        st.sampled_from(
            ["title", "state", "story_type", "start_date", "due_date", "price_in_cents",
             "budget_estimate_in_cents", "currency", "status_key", "workspace_id", "subject_type",
             "subject_id", "service_name", "service_model", "service_model_ref", "archived"]
        ),
        _JSON,
        max_size=6,
    ),
)  # fmt: skip
def test_any_write_body_gets_a_vendor_answer(
    firm: Firm, target: tuple[str, str, str], attrs: dict[str, Any]
) -> None:
    method, path, root = target
    response = request_once(firm, method, f"/api/v1/{path}.json", json={root: attrs})
    assert response.status_code in (200, 201, 400, 422)
    if response.status_code >= 400:
        assert body(response)["errors"][0]["type"] in ("validation", "system")
