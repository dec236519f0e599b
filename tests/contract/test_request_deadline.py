"""The request deadline: a hanging system costs a request its time budget, not
retry_max_attempts x timeout_s, and still only its own fields."""

from __future__ import annotations

from typing import Any

from sandboxes.firm import Firm
from tests.graph_support import graph_client

# The engagement with fields from each system; NetSuite serves one of them (one call).
QUERY = """query D($key: String!) { engagement(key: $key) {
  key name
  customer { key name }
  project { name }
  timeEntries(first: 3) { totalCount }
  invoices(first: 3) { totalCount }
} }"""
OWNED = {"kantata": "project", "harvest": "timeEntries", "netsuite": "invoices"}


def _key(firm: Firm) -> str:
    return next(e.key for e in firm.engagements if e.status == "ACTIVE" and len(e.present_in) == 4)


def _errors_by_system(body: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for error in body.get("errors", []):
        ext = error["extensions"]
        found.setdefault(ext.get("system", "?"), set()).add(ext["code"])
    return found


async def test_a_hanging_system_gets_one_attempt_within_the_request_budget(firm: Firm) -> None:
    key = _key(firm)
    async with graph_client(firm, timeout_s=2, retry_max_attempts=3, request_budget_s=0.5) as graph:
        await graph.data(QUERY, {"key": key})  # token and reference data in hand
        await graph.reset_calls()
        await graph.sandboxes.set_faults("netsuite", timeout_rate=1.0)
        body = await graph.query(QUERY, {"key": key})
        netsuite = await graph.by_endpoint("netsuite")
    engagement = body["data"]["engagement"]
    assert engagement["key"] == key and engagement["name"] and engagement["customer"]
    assert all(
        (engagement[field] is None) == (system == "netsuite") for system, field in OWNED.items()
    )
    assert _errors_by_system(body) == {"netsuite": {"UPSTREAM_UNAVAILABLE"}}
    assert any("deadline" in e["message"] for e in body["errors"]), body["errors"]
    # Without the deadline: 3 attempts of 2 s, each one reaching NetSuite.
    assert sum(netsuite.values()) <= 1, netsuite


async def test_a_call_cut_short_by_the_budget_leaves_the_next_request_untouched(
    firm: Firm,
) -> None:
    key = _key(firm)
    async with graph_client(firm, request_budget_s=0.5, breaker_failure_threshold=1) as graph:
        await graph.sandboxes.set_faults("netsuite", timeout_rate=1.0)
        # NetSuite's call waits the budget out, short of its 5 s timeout: the request
        # ran out of time, NetSuite did not fail, so its breaker stays closed.
        await graph.query(QUERY, {"key": key})
        await graph.sandboxes.set_faults("netsuite", timeout_rate=0.0)
        body = await graph.query(QUERY, {"key": key})
    assert "errors" not in body, body["errors"]
    assert body["data"]["engagement"]["invoices"] is not None
