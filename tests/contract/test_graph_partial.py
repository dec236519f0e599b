"""Partial results: a system down, slow, throttled or behind an open breaker costs
only its own fields; the response is still 200 with every other field."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from sandboxes.firm import Firm
from tests.graph_support import GraphClient, graph_client

QUERY = """query P($key: String!) { engagement(key: $key) {
  key name
  customer { key name status }
  project { name }
  timeEntries(first: 3) { totalCount }
  invoices(first: 3) { totalCount }
  financials { billedToDate { amount } }
} }"""

# Which fields each system serves in QUERY (the engagement itself is the CRM's).
OWNED = {
    "kantata": ["project"],
    "harvest": ["timeEntries"],
    "netsuite": ["invoices"],
}
SECRETS = ("eg-demo-secret", "kantata-demo-token", "harvest-demo-token", "Traceback")


def _key(firm: Firm) -> str:
    return next(e.key for e in firm.engagements if e.status == "ACTIVE" and len(e.present_in) == 4)


def _errors_by_system(body: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for error in body.get("errors", []):
        ext = error["extensions"]
        found.setdefault(ext.get("system", "?"), set()).add(ext["code"])
    return found


FAULTS: dict[str, dict[str, float]] = {
    "down": {"error_rate": 1.0},
    "slow": {"timeout_rate": 1.0},
    "throttled": {"rate_limit_rate": 1.0, "retry_after_s": 0},
}


@pytest.mark.parametrize("system", ["kantata", "harvest", "netsuite"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_one_failing_system_nulls_only_its_fields(
    firm: Firm, system: str, fault: str
) -> None:
    async with graph_client(firm, timeout_s=0.3) as graph:
        await graph.sandboxes.set_faults(system, **FAULTS[fault])
        response = await graph.http.post(
            "/graphql",
            json={"query": QUERY, "variables": {"key": _key(firm)}},
            headers={"X-Correlation-ID": "partial-1"},
        )
    assert response.status_code == 200
    body = response.json()
    engagement = body["data"]["engagement"]
    assert engagement["key"] == _key(firm) and engagement["name"]
    for field in OWNED[system]:
        assert engagement[field] is None, field
    for other, fields in OWNED.items():
        if other != system:
            assert all(engagement[f] is not None for f in fields), other
    assert _errors_by_system(body) == {system: {"UPSTREAM_UNAVAILABLE"}}
    assert {e["extensions"]["correlationId"] for e in body["errors"]} == {"partial-1"}
    text = json.dumps(body)
    assert not any(secret in text for secret in SECRETS)


async def test_crm_down_leaves_the_engagement_null_with_a_clear_error(firm: Firm) -> None:
    async with graph_client(firm) as graph:
        await graph.sandboxes.set_faults("salesforce", error_rate=1.0)
        body = await graph.query(QUERY, {"key": _key(firm)})
    assert body["data"] == {"engagement": None}
    assert _errors_by_system(body) == {"salesforce": {"UPSTREAM_UNAVAILABLE"}}


async def test_an_open_breaker_answers_at_once_without_calling(firm: Firm) -> None:
    async with graph_client(firm, breaker_failure_threshold=1, retry_max_attempts=1) as graph:
        await graph.sandboxes.set_faults("harvest", error_rate=1.0)
        await graph.query(QUERY, {"key": _key(firm)})  # opens harvest's breaker
        before = await graph.sandboxes.calls("harvest")
        body = await graph.query(QUERY, {"key": _key(firm)})
        after = await graph.sandboxes.calls("harvest")
    assert after == before
    assert body["data"]["engagement"]["timeEntries"] is None
    assert _errors_by_system(body) == {"harvest": {"UPSTREAM_UNAVAILABLE"}}
    assert any("breaker" in e["message"] for e in body["errors"])


async def test_a_rejected_call_is_upstream_rejected_with_the_vendor_message(
    firm: Firm, graph_with_bad_harvest_token: GraphClient
) -> None:
    body = await graph_with_bad_harvest_token.query(QUERY, {"key": _key(firm)})
    assert body["data"]["engagement"]["project"] is not None
    assert _errors_by_system(body) == {"harvest": {"UPSTREAM_REJECTED"}}
    assert "harvest-demo-token" not in json.dumps(body)


@pytest.fixture
async def graph_with_bad_harvest_token(firm: Firm) -> Any:
    async with graph_client(firm, harvest_token="wrong-token") as graph:
        yield graph


FIN = """query F($key: String!) { engagement(key: $key) { key status
  financials { bookedValue { amount } billedToDate { amount } collected { amount }
               outstanding { amount } unbilledWip { amount }
               approvedBillableValue { amount } } } }"""


def _engagement_of(firm: Firm, model: str) -> str:
    planted = {d.engagement_key for d in firm.discrepancies}
    return next(
        e.key
        for e in firm.engagements
        if e.billing_model == model
        and e.status == "ACTIVE"
        and e.key not in planted
        and len(e.present_in) == 4
    )


async def test_time_tracking_down_nulls_only_the_wip_figures(firm: Firm) -> None:
    key = _engagement_of(firm, "TIME_AND_MATERIALS")
    async with graph_client(firm, harvest_report_ttl_s=0) as graph:  # no report kept
        healthy = (await graph.data(FIN, {"key": key}))["engagement"]["financials"]
        await graph.sandboxes.set_faults("harvest", error_rate=1.0)
        body = await graph.query(FIN, {"key": key})
    financials = body["data"]["engagement"]["financials"]
    for figure in ("bookedValue", "billedToDate", "collected", "outstanding"):
        assert financials[figure] == healthy[figure], figure
    assert financials["unbilledWip"] is None and financials["approvedBillableValue"] is None
    assert _errors_by_system(body) == {"harvest": {"UPSTREAM_UNAVAILABLE"}}


async def test_psa_down_never_turns_wip_into_a_silent_zero(firm: Firm) -> None:
    tm, milestone = _engagement_of(firm, "TIME_AND_MATERIALS"), _engagement_of(firm, "MILESTONE")
    async with graph_client(firm) as graph:
        before = {k: (await graph.data(FIN, {"key": k}))["engagement"] for k in (tm, milestone)}
    async with graph_client(firm) as graph:  # fresh: nothing cached from the healthy run
        await graph.sandboxes.set_faults("kantata", error_rate=1.0)
        tm_body = await graph.query(FIN, {"key": tm})
        ms_body = await graph.query(FIN, {"key": milestone})
    tm_now = tm_body["data"]["engagement"]
    assert tm_now["status"] is None  # the PSA tells a won deal's status
    assert tm_now["financials"]["unbilledWip"] == before[tm]["financials"]["unbilledWip"]
    assert Decimal(before[tm]["financials"]["unbilledWip"]["amount"]) > 0
    ms_now = ms_body["data"]["engagement"]["financials"]
    assert ms_now["unbilledWip"] is None  # milestones live in the PSA: unknown, not zero
    assert ms_now["billedToDate"] == before[milestone]["financials"]["billedToDate"]
    assert _errors_by_system(ms_body) == {"kantata": {"UPSTREAM_UNAVAILABLE"}}


async def test_a_store_outage_costs_only_the_cache(firm: Firm) -> None:
    query = """{ engagements(first: 3) { nodes { key legalEntity { code currency }
      rateCard { version } financials { billedToDate { amount } } } } }"""
    async with graph_client(firm, redis_url="redis://127.0.0.1:1/0") as graph:
        data = await graph.data(query)
    assert all(n["legalEntity"]["currency"] for n in data["engagements"]["nodes"])
