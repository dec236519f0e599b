"""Fan-out that is fast by construction: calls per system, counted by the sandboxes."""

from __future__ import annotations

import pytest

from sandboxes.firm import Firm
from tests.graph_support import FINANCE_DASHBOARD, GraphClient, graph_client

DASHBOARD_VARS = {"first": 100, "since": "2026-10-01"}
WARM_UP = """{ engagements(first: 1) { nodes { legalEntity { code } rateCard { version }
  assignments { person { name } } timeEntries(first: 1) { totalCount } } } }"""


async def _warm(graph: GraphClient) -> None:
    """Fill the reference-data cache, the adapters' tokens and directories, zero the counters."""
    await graph.data(WARM_UP)
    await graph.reset_calls()


async def test_finance_dashboard_costs_one_call_per_system_and_kind(firm: Firm) -> None:
    async with graph_client(firm, harvest_report_ttl_s=0) as graph:
        await _warm(graph)
        data = await graph.data(FINANCE_DASHBOARD, DASHBOARD_VARS)
        calls = await graph.calls()
    rows = data["engagements"]["edges"]
    assert len(rows) == 100
    assert all(r["node"]["financials"] is not None for r in rows)
    assert calls == EXPECTED_DASHBOARD_CALLS, calls
    assert sum(calls.values()) <= 8


async def test_calls_do_not_grow_with_the_number_of_rows(firm: Firm) -> None:
    async with graph_client(firm, harvest_report_ttl_s=0) as graph:
        await _warm(graph)
        counts = []
        for first in (10, 40, 100):
            await graph.reset_calls()
            await graph.data(FINANCE_DASHBOARD, {**DASHBOARD_VARS, "first": first})
            counts.append(await graph.calls())
    for row in counts:  # fewer rows may need fewer kinds of record, never more calls
        assert all(row[s] <= EXPECTED_DASHBOARD_CALLS[s] for s in row), counts
    assert counts[-1] == EXPECTED_DASHBOARD_CALLS


async def test_loaders_are_fresh_for_every_request(firm: Firm) -> None:
    async with graph_client(firm, harvest_report_ttl_s=0) as graph:
        await _warm(graph)
        await graph.data(FINANCE_DASHBOARD, DASHBOARD_VARS)
        first = await graph.calls()
        await graph.reset_calls()
        await graph.data(FINANCE_DASHBOARD, DASHBOARD_VARS)
        second = await graph.calls()
    assert second == first  # nothing served from the previous request's loaders


async def test_the_uninvoiced_report_is_reused_across_requests_within_its_ttl(
    firm: Firm,
) -> None:
    async with graph_client(firm) as graph:  # EG_HARVEST_REPORT_TTL_S defaults to 60 s
        await _warm(graph)
        await graph.data(FINANCE_DASHBOARD, DASHBOARD_VARS)
        first = await graph.by_endpoint("harvest")
        await graph.reset_calls()
        await graph.data(FINANCE_DASHBOARD, DASHBOARD_VARS)
        second = await graph.by_endpoint("harvest")
    assert first == {"GET /v2/reports/uninvoiced": 1, "GET /v2/time_entries": 1}
    assert second == {"GET /v2/time_entries": 1}


async def test_invoice_lines_cost_one_more_erp_call_for_all_invoices(firm: Firm) -> None:
    query = """{ engagements(first: 50, filter: {billingModel: TIME_AND_MATERIALS}) {
      nodes { invoices(first: 50) {
        nodes { lines { description amount { amount } sources } } } } } }"""
    async with graph_client(firm) as graph:
        await _warm(graph)
        data = await graph.data(query)
        netsuite = await graph.by_endpoint("netsuite")
    lines = [
        line
        for e in data["engagements"]["nodes"]
        for i in e["invoices"]["nodes"]
        for line in i["lines"]
    ]
    assert lines and all(line["sources"] for line in lines if "Consult" in line["description"])
    assert sum(netsuite.values()) == EXPECTED_INVOICE_LINE_CALLS, netsuite


async def test_reference_data_is_cached_across_requests_and_invalidated(firm: Firm) -> None:
    query = "{ engagements(first: 30) { nodes { legalEntity { code currency } } } }"
    async with graph_client(firm) as graph:
        await graph.data(query)
        await graph.reset_calls()
        await graph.data(query)
        assert await graph.by_endpoint("netsuite") == {}  # legal entities came from the cache
        await graph.app.state.reference.invalidate()
        await graph.data(query)
        assert sum((await graph.by_endpoint("netsuite")).values()) >= 1


@pytest.mark.timeout(120)
async def test_naive_mode_is_the_slow_baseline(firm: Firm) -> None:
    async with graph_client(
        firm, sandbox_options={"harvest": {"rate_limit": None}}, naive_fanout=True
    ) as graph:
        await _warm(graph)
        await graph.data(FINANCE_DASHBOARD, {**DASHBOARD_VARS, "first": 20})
        calls = await graph.calls()
    assert sum(calls.values()) > 5 * sum(EXPECTED_DASHBOARD_CALLS.values())


# One per system and kind of record per level: CRM opportunities (L0); PSA projects (L0)
# and milestones (L1); time-tracking uninvoiced report and recent entries (L1); ERP ledger
# (invoices + payments in one query) and billing schedules (headers + lines) (L1).
EXPECTED_DASHBOARD_CALLS = {"salesforce": 1, "kantata": 2, "harvest": 2, "netsuite": 3}
# The ledger (1 query) and the lines of every invoice on the page (1 transactionline query,
# 1,703 rows: 2 pages of 1,000).
EXPECTED_INVOICE_LINE_CALLS = 3
