"""The Harvest adapter against its sandbox, over httpx.ASGITransport."""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest

from adapters.harvest import HarvestAdapter, TimeEntryCreate
from adapters.resilience import ResiliencePolicy
from domain.errors import (
    AuthFailed,
    CircuitOpen,
    InvalidInput,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from domain.health import BreakerState
from domain.ids import EngagementKey, RecordId
from domain.models import ApprovalStatus, UninvoicedWork
from domain.money import Money
from domain.ports import TimeTracking
from gateway.config import Settings
from gateway.wiring import build_systems
from sandboxes.firm import Firm, TimeEntry
from sandboxes.harvest import HARVEST_ACCOUNT_ID, HARVEST_TOKEN, create_app
from tests.support import FakeClock, RecordedSleeps, SandboxControl, closing_factory, fast_policy

BASE = "https://api.harvestapp.test"
FAST = fast_policy(
    retry_after_max_s=30.0, breaker_failure_threshold=50, breaker_reset_timeout_s=30.0
)
VENDOR_HEADERS = {
    "Authorization": f"Bearer {HARVEST_TOKEN}",
    "Harvest-Account-Id": HARVEST_ACCOUNT_ID,
    "User-Agent": "contract-tests (qa@example.com)",
}


@pytest.fixture
async def sandbox(firm: Firm) -> AsyncIterator[SandboxControl]:
    box = SandboxControl(create_app(firm, rate_limit=None), BASE, VENDOR_HEADERS)
    yield box
    await box.aclose()


AdapterFactory = Callable[..., HarvestAdapter]


@pytest.fixture
async def make_adapter(sandbox: SandboxControl) -> AsyncIterator[AdapterFactory]:
    build = partial(
        HarvestAdapter,
        base_url=BASE,
        token=HARVEST_TOKEN,
        account_id=HARVEST_ACCOUNT_ID,
        policy=FAST,
        transport=sandbox.transport,
    )
    async with closing_factory(build) as make:
        yield make


@pytest.fixture
def adapter(make_adapter: AdapterFactory) -> HarvestAdapter:
    return make_adapter()


def harvest_keys(firm: Firm) -> list[EngagementKey]:
    return [EngagementKey(e.key) for e in firm.engagements if "harvest" in e.present_in]


def entries_of(firm: Firm, *keys: str) -> list[TimeEntry]:
    return [t for t in firm.time_entries if t.engagement_key in keys]


def busiest(firm: Firm, count: int) -> list[EngagementKey]:
    """The `count` engagements with the most time entries (several pages each at 100)."""
    sizes = {k: len(entries_of(firm, k)) for k in harvest_keys(firm)}
    return sorted(sizes, key=lambda k: (-sizes[k], k))[:count]


# -- the port and health ----------------------------------------------------------


async def test_the_adapter_satisfies_the_time_tracking_port(adapter: HarvestAdapter) -> None:
    port: TimeTracking = adapter
    assert port.name == "harvest"
    assert port.breaker_state is BreakerState.CLOSED


async def test_health_probes_the_company_endpoint(
    adapter: HarvestAdapter, sandbox: SandboxControl
) -> None:
    health = await adapter.health()
    assert health.ok and health.system == "harvest" and health.latency_ms is not None
    assert await sandbox.by_endpoint() == {"GET /v2/company": 1}


async def test_health_reports_a_refused_token_without_raising(
    make_adapter: AdapterFactory,
) -> None:
    health = await make_adapter(token="revoked").health()
    assert not health.ok
    assert health.detail is not None and "invalid_token" in health.detail


# -- reads ------------------------------------------------------------------------


async def test_time_entries_of_one_engagement_map_to_the_canonical_model(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    key = busiest(firm, 1)[0]
    engagement = next(e for e in firm.engagements if e.key == key)
    entries = await adapter.get_time_entries_by_engagement([key])
    expected = {t.key: t for t in entries_of(firm, key)}
    assert sorted(e.external_ref or "" for e in entries) == sorted(expected)
    for entry in entries:
        source = expected[entry.external_ref or ""]
        assert entry.engagement_key == key
        assert entry.hours == source.hours and isinstance(entry.hours, Decimal)
        assert entry.spent_date == source.spent_date and entry.task == source.task
        assert entry.billable is source.billable
        assert entry.billed is (source.invoice is not None)
        assert entry.invoice_ref == source.invoice
        assert (entry.approval is ApprovalStatus.APPROVED) is source.approved
        assert entry.locked is (source.approved or source.invoice is not None)
        assert entry.cost_rate == Money.of(source.cost_rate, engagement.currency)
        if source.billable:
            assert entry.bill_rate == Money.of(source.bill_rate, engagement.currency)
        assert entry.person_id is not None and entry.modified_at is not None
    assert await sandbox.by_endpoint() == {"GET /v2/projects": 1, "GET /v2/time_entries": 1}


async def test_time_entries_by_engagement_honour_the_window_and_billed_filters(
    adapter: HarvestAdapter, firm: Firm
) -> None:
    key = busiest(firm, 1)[0]
    source = entries_of(firm, key)
    start = min(t.spent_date for t in source)
    end = date.fromordinal(start.toordinal() + 45)
    unbilled = await adapter.get_time_entries_by_engagement(
        [key], date_from=start, date_to=end, billed=False
    )
    assert sorted(e.external_ref or "" for e in unbilled) == sorted(
        t.key for t in source if start <= t.spent_date <= end and t.invoice is None
    )
    billed = await adapter.get_time_entries_by_engagement([key], billed=True)
    assert len(billed) == sum(t.invoice is not None for t in source)


async def test_several_engagements_follow_links_across_page_boundaries(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    adapter = make_adapter(page_size=100)
    keys = busiest(firm, 3)
    entries = await adapter.get_time_entries_by_engagement(keys)
    expected = entries_of(firm, *keys)
    assert sorted(e.external_ref or "" for e in entries) == sorted(t.key for t in expected)
    per_project = sum(math.ceil(len(entries_of(firm, k)) / 100) for k in keys)
    assert per_project > len(keys)  # pages were crossed
    # one account-wide first page priced the alternatives, then one listing per project
    assert await sandbox.by_endpoint() == {
        "GET /v2/projects": math.ceil(len(harvest_keys(firm)) / 100),
        "GET /v2/time_entries": 1 + per_project,
    }


async def test_many_engagements_in_a_month_take_one_account_wide_listing(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = harvest_keys(firm)
    month = (date(2026, 3, 1), date(2026, 3, 31))
    entries = await adapter.get_time_entries_by_engagement(
        keys, date_from=month[0], date_to=month[1]
    )
    expected = [t for t in firm.time_entries if month[0] <= t.spent_date <= month[1]]
    assert 0 < len(expected) <= 2000
    assert sorted(e.external_ref or "" for e in entries) == sorted(t.key for t in expected)
    assert await sandbox.by_endpoint() == {"GET /v2/projects": 1, "GET /v2/time_entries": 1}


async def test_unknown_engagements_cost_one_projects_call_and_return_nothing(
    adapter: HarvestAdapter, sandbox: SandboxControl
) -> None:
    assert await adapter.get_time_entries_by_engagement([EngagementKey("ENG-1999-00001")]) == []
    assert await adapter.get_expenses_by_engagement([]) == []
    assert await sandbox.by_endpoint() == {"GET /v2/projects": 1}


async def test_get_many_of_500_ids_is_a_handful_of_calls(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    everything = await adapter.get_time_entries_by_engagement(harvest_keys(firm))
    oldest_first = sorted(everything, key=lambda e: (e.spent_date, int(e.id)))
    step = len(oldest_first) // 500
    wanted = [e.id for e in oldest_first[::step][:500]]
    assert len(wanted) == 500
    await sandbox.reset_calls()
    found = await adapter.get_time_entries(wanted)
    assert [e.id for e in found] == wanted
    total = len(everything)
    assert await sandbox.by_endpoint() == {"GET /v2/time_entries": math.ceil(total / 2000)}
    assert math.ceil(total / 2000) <= 12


async def test_the_listing_stops_once_every_id_is_found(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    latest = max(harvest_keys(firm), key=lambda k: max(t.spent_date for t in entries_of(firm, k)))
    recent = await adapter.get_time_entries_by_engagement([latest], date_from=date(2026, 10, 1))
    wanted = [e.id for e in recent][:4]
    assert len(wanted) == 4
    await sandbox.reset_calls()
    assert {e.id for e in await adapter.get_time_entries(wanted)} == set(wanted)
    assert await sandbox.calls() == 1


async def test_a_few_ids_are_read_one_by_one_and_missing_ones_are_absent(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    entries = await adapter.get_time_entries_by_engagement(busiest(firm, 1))
    wanted = [entries[0].id, RecordId("1"), entries[1].id]
    await sandbox.reset_calls()
    found = await adapter.get_time_entries(wanted)
    assert [e.id for e in found] == [entries[0].id, entries[1].id]
    assert await sandbox.by_endpoint() == {
        f"GET /v2/time_entries/{entries[0].id}": 1,
        "GET /v2/time_entries/1": 1,
        f"GET /v2/time_entries/{entries[1].id}": 1,
    }


async def test_a_non_numeric_id_is_invalid_input(adapter: HarvestAdapter) -> None:
    with pytest.raises(InvalidInput):
        await adapter.get_time_entries([RecordId("TE-000001")])


async def test_expenses_by_engagement_map_amounts_in_the_client_currency(
    adapter: HarvestAdapter, firm: Firm
) -> None:
    keys = busiest(firm, 2)
    expenses = await adapter.get_expenses_by_engagement(keys)
    expected = [x for x in firm.expenses if x.engagement_key in keys]
    assert len(expenses) == len(expected) > 0
    assert sorted((e.spent_date, e.amount.amount, e.category or "") for e in expenses) == sorted(
        (x.spent_date, x.amount, x.category) for x in expected
    )
    currencies = {x.currency for x in expected}
    assert {e.amount.currency for e in expenses} == currencies
    assert sum(e.billed for e in expenses) == sum(x.invoice is not None for x in expected)
    assert sum(e.approved for e in expenses) == sum(x.approved for x in expected)


# -- uninvoiced work (the Reports API) ----------------------------------------------

REPORT = "GET /v2/reports/uninvoiced"
PROJECTS = "GET /v2/projects"


async def expected_uninvoiced(
    adapter: HarvestAdapter, keys: list[EngagementKey], start: date, end: date
) -> dict[EngagementKey, tuple[Decimal, Money, Money]]:
    """Per engagement with work spent from `start` to `end`: the hours, the sum of hours
    times bill rate, and the sum of expenses, of approved, billable, unbilled work,
    from the adapter's own listings."""
    entries = await adapter.get_time_entries_by_engagement(keys, date_from=start, date_to=end)
    expenses = await adapter.get_expenses_by_engagement(keys, date_from=start, date_to=end)
    hours: dict[EngagementKey, Decimal] = defaultdict(Decimal)
    time: dict[EngagementKey, list[Money]] = defaultdict(list)
    spent: dict[EngagementKey, list[Money]] = defaultdict(list)
    currency: dict[EngagementKey, str] = {}
    for entry in entries:
        assert entry.engagement_key is not None and entry.cost_rate is not None
        key = entry.engagement_key
        currency[key] = entry.cost_rate.currency
        if entry.billable and entry.approval is ApprovalStatus.APPROVED and not entry.billed:
            assert entry.bill_rate is not None
            hours[key] += entry.hours
            time[key].append(entry.bill_rate * entry.hours)
    for expense in expenses:
        assert expense.engagement_key is not None
        key = expense.engagement_key
        currency[key] = expense.amount.currency
        if expense.billable and expense.approved and not expense.billed:
            spent[key].append(expense.amount)
    return {
        key: (hours[key], Money.sum(time[key], code), Money.sum(spent[key], code))
        for key, code in currency.items()
    }


def as_tuple(work: UninvoicedWork) -> tuple[Decimal, Money, Money]:
    return (work.hours, work.time_amount, work.expense_amount)


async def test_uninvoiced_work_of_every_engagement_is_two_calls_and_sums_the_approved_work(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    adapter = make_adapter(today=lambda: firm.as_of)
    keys = harvest_keys(firm)
    work = await adapter.get_uninvoiced(keys)
    assert await sandbox.by_endpoint() == {"GET /v2/projects": 1, REPORT: 1}
    [report] = [
        r for r in (await sandbox.http.get("/__sandbox/requests")).json()["requests"]
        if r["path"] == "/v2/reports/uninvoiced"
    ]  # fmt: skip
    assert report["query"] == "from=20251101&to=20261031&per_page=2000"
    found = {w.engagement_key: w for w in work}
    assert [w.engagement_key for w in work] == [k for k in keys if k in found]
    expected = await expected_uninvoiced(adapter, keys, date(2025, 11, 1), firm.as_of)
    assert set(found) == set(expected)
    for key, (hours, time, spent) in expected.items():
        assert as_tuple(found[key]) == (hours, time, spent), key
    currencies = {e.key: e.currency for e in firm.engagements}
    assert all(w.time_amount.currency == currencies[w.engagement_key] for w in work)
    assert sum(w.expense_amount.amount > 0 for w in work) > 0
    assert sum(w.hours > 0 for w in work) > 0


async def test_unknown_engagements_are_absent_and_spare_the_report(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    adapter = make_adapter(today=lambda: firm.as_of)
    key = busiest(firm, 1)[0]
    unknown = EngagementKey("ENG-1999-00001")
    work = await adapter.get_uninvoiced([unknown, key, key])
    assert [w.engagement_key for w in work] == [key]
    assert await sandbox.by_endpoint() == {"GET /v2/projects": 1, REPORT: 1}
    await sandbox.reset_calls()
    assert await adapter.get_uninvoiced([unknown]) == []
    assert await adapter.get_uninvoiced([]) == []
    assert await sandbox.by_endpoint() == {}  # the directory remembers `unknown` is absent


async def test_report_pages_are_read_by_page_number(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = harvest_keys(firm)
    whole = await make_adapter(today=lambda: firm.as_of).get_uninvoiced(keys)
    window = {"from": "20251101", "to": "20261031", "per_page": 1}
    rows = (await sandbox.vendor("GET", "/v2/reports/uninvoiced", params=window))["total_entries"]
    await sandbox.reset_calls()
    paged = await make_adapter(today=lambda: firm.as_of, page_size=10).get_uninvoiced(keys)
    assert paged == whole
    assert await sandbox.by_endpoint() == {
        "GET /v2/projects": math.ceil(len(keys) / 10),
        REPORT: math.ceil(rows / 10),
    }
    assert math.ceil(rows / 10) > 1


class FailFirstReport(httpx.AsyncBaseTransport):
    """Arms the sandbox's error_rate just before the first report request goes through."""

    def __init__(self, sandbox: SandboxControl) -> None:
        self.sandbox = sandbox
        self.armed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/reports/uninvoiced" and not self.armed:
            self.armed = True
            await self.sandbox.faults(error_rate=1)
        return await self.sandbox.transport.handle_async_request(request)


async def test_a_server_error_on_the_report_is_retried(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    async def clear_faults() -> None:
        await sandbox.faults(error_rate=0)

    keys = busiest(firm, 3)
    clean = await make_adapter(today=lambda: firm.as_of).get_uninvoiced(keys)
    await sandbox.reset_calls()
    sleep = RecordedSleeps(clear_faults)
    adapter = make_adapter(
        today=lambda: firm.as_of, transport=FailFirstReport(sandbox), sleep=sleep
    )
    assert await adapter.get_uninvoiced(keys) == clean
    assert len(sleep.delays) == 1
    assert await sandbox.by_endpoint() == {"GET /v2/projects": 1, REPORT: 2}


async def test_a_throttled_report_waits_out_its_retry_after(
    make_adapter: AdapterFactory, firm: Firm
) -> None:
    clock = FakeClock()
    app = create_app(firm, rate_limit=2, report_rate_limit=1, report_rate_window_s=20, clock=clock)
    limited = SandboxControl(app, BASE)
    sleep = RecordedSleeps(clock=clock)
    adapter = make_adapter(
        transport=limited.transport, sleep=sleep, today=lambda: firm.as_of, report_ttl_s=0
    )
    keys = busiest(firm, 2)
    first = await adapter.get_uninvoiced(keys)
    clock.now += 15  # the 15 s request window frees; the report's 20 s one does not
    second = await adapter.get_uninvoiced(keys)
    assert second == first and len(first) == 2
    assert sleep.delays == [5.0]
    # the second read found its projects in the directory
    assert await limited.by_endpoint() == {"GET /v2/projects": 1, REPORT: 3}
    await limited.aclose()


async def test_a_report_retry_after_beyond_the_policy_surfaces_unavailable(
    make_adapter: AdapterFactory, firm: Firm
) -> None:
    clock = FakeClock()
    limited = SandboxControl(create_app(firm, report_rate_limit=1, clock=clock), BASE)
    sleep = RecordedSleeps(clock=clock)
    adapter = make_adapter(
        transport=limited.transport, sleep=sleep, today=lambda: firm.as_of, report_ttl_s=0
    )
    keys = busiest(firm, 1)
    assert await adapter.get_uninvoiced(keys)
    with pytest.raises(UpstreamUnavailable) as caught:
        await adapter.get_uninvoiced(keys)  # Harvest asks for 900 s: more than we wait
    assert caught.value.status == 429
    assert sleep.delays == []
    assert await limited.calls(REPORT) == 2
    await limited.aclose()


# -- the uninvoiced report kept, and the report budget ------------------------------

REPORT_PATH = "/v2/reports/uninvoiced"


async def cold_uninvoiced(
    make_adapter: AdapterFactory, firm: Firm, keys: list[EngagementKey]
) -> list[UninvoicedWork]:
    """What an adapter that keeps nothing answers (its calls are not counted)."""
    return await make_adapter(today=lambda: firm.as_of, report_ttl_s=0).get_uninvoiced(keys)


async def test_uninvoiced_reads_within_the_report_ttl_cost_one_report_call(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys, some = harvest_keys(firm), busiest(firm, 3)
    everything = await cold_uninvoiced(make_adapter, firm, keys)
    a_few = await cold_uninvoiced(make_adapter, firm, some)
    assert len(a_few) == 3 and len(everything) > 3
    await sandbox.reset_calls()
    clock = FakeClock()
    adapter = make_adapter(today=lambda: firm.as_of, clock=clock, report_ttl_s=60)
    assert await adapter.get_uninvoiced(keys) == everything
    clock.now += 59
    assert await adapter.get_uninvoiced(some) == a_few  # other keys, the same report
    assert await sandbox.by_endpoint() == {PROJECTS: 1, REPORT: 1}
    clock.now += 1  # the report is 60 s old: read again
    assert await adapter.get_uninvoiced(some) == a_few
    assert await adapter.get_uninvoiced(keys) == everything
    assert await sandbox.by_endpoint() == {PROJECTS: 1, REPORT: 2}


async def test_concurrent_uninvoiced_reads_share_one_report_read(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys, some = harvest_keys(firm), busiest(firm, 3)
    expected = [await cold_uninvoiced(make_adapter, firm, k) for k in (keys, some, some[:1])]
    await sandbox.reset_calls()
    adapter = make_adapter(today=lambda: firm.as_of, report_ttl_s=0)  # nothing kept: shared only
    found = await asyncio.gather(*(adapter.get_uninvoiced(k) for k in (keys, some, some[:1])))
    assert found == expected
    assert await sandbox.by_endpoint() == {PROJECTS: 1, REPORT: 1}


async def test_a_cancelled_reader_leaves_the_shared_report_read_to_the_others(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = busiest(firm, 2)
    expected = await cold_uninvoiced(make_adapter, firm, keys)
    await sandbox.reset_calls()
    hold = Hold(sandbox, REPORT_PATH)
    adapter = make_adapter(transport=hold, today=lambda: firm.as_of)
    leaving = asyncio.create_task(adapter.get_uninvoiced(keys))
    staying = asyncio.create_task(adapter.get_uninvoiced(keys))
    await asyncio.wait_for(hold.entered.wait(), timeout=5)
    leaving.cancel()
    hold.release.set()
    assert await asyncio.wait_for(staying, timeout=5) == expected
    assert leaving.cancelled()
    assert await adapter.get_uninvoiced(keys) == expected  # the read was kept
    assert await sandbox.calls(REPORT) == 1


class RefuseReports(httpx.AsyncBaseTransport):
    """Answers every report request with a 503 while `refusing`; counts those it refused."""

    def __init__(self, sandbox: SandboxControl) -> None:
        self.sandbox = sandbox
        self.refusing = True
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.refusing and request.url.path == REPORT_PATH:
            self.refused += 1
            return httpx.Response(503, json={"message": "try later"}, request=request)
        return await self.sandbox.transport.handle_async_request(request)


async def test_a_failed_report_read_fails_every_reader_sharing_it_and_is_not_remembered(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys, some = harvest_keys(firm), busiest(firm, 2)
    expected = await cold_uninvoiced(make_adapter, firm, keys)
    await sandbox.reset_calls()
    refuse = RefuseReports(sandbox)
    adapter = make_adapter(transport=refuse, today=lambda: firm.as_of)
    outcomes = await asyncio.gather(
        adapter.get_uninvoiced(keys), adapter.get_uninvoiced(some), return_exceptions=True
    )
    assert all(isinstance(o, UpstreamUnavailable) and o.status == 503 for o in outcomes), outcomes
    assert refuse.refused == FAST.max_attempts  # one shared read, retried
    refuse.refusing = False
    assert await adapter.get_uninvoiced(keys) == expected
    assert await sandbox.by_endpoint() == {PROJECTS: 1, REPORT: 1}


async def test_invalidating_the_uninvoiced_report_makes_the_next_read_ask_harvest(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = busiest(firm, 2)
    expected = await cold_uninvoiced(make_adapter, firm, keys)
    await sandbox.reset_calls()
    adapter = make_adapter(today=lambda: firm.as_of)
    assert await adapter.get_uninvoiced(keys) == expected
    adapter.invalidate_uninvoiced()
    assert await adapter.get_uninvoiced(keys) == expected
    assert await adapter.get_uninvoiced(keys) == expected  # the new read is kept
    assert await sandbox.calls(REPORT) == 2


async def test_a_read_in_flight_when_invalidated_is_not_served_to_later_readers(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = busiest(firm, 2)
    expected = await cold_uninvoiced(make_adapter, firm, keys)
    await sandbox.reset_calls()
    hold = Hold(sandbox, REPORT_PATH)
    adapter = make_adapter(transport=hold, today=lambda: firm.as_of)
    earlier = asyncio.create_task(adapter.get_uninvoiced(keys))
    await asyncio.wait_for(hold.entered.wait(), timeout=5)
    adapter.invalidate_uninvoiced()  # e.g. an approval ended while the report was read
    later = asyncio.create_task(adapter.get_uninvoiced(keys))
    hold.release.set()
    found = await asyncio.wait_for(asyncio.gather(earlier, later), timeout=5)
    assert list(found) == [expected, expected]
    assert await sandbox.calls(REPORT) == 2  # the later reader did not join the earlier read
    assert await adapter.get_uninvoiced(keys) == expected  # the later read is kept
    assert await sandbox.calls(REPORT) == 2


async def test_an_approval_invalidates_the_uninvoiced_report_and_a_refusal_does_not(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    since = firm.as_of - timedelta(days=364)  # the report's window
    target = next(
        t
        for t in firm.time_entries
        if not t.approved and t.billable and t.invoice is None and t.spent_date >= since
        and t.engagement_key in harvest_keys(firm)
    )  # fmt: skip
    key = EngagementKey(target.engagement_key)
    adapter = make_adapter(today=lambda: firm.as_of)
    entries = await adapter.get_time_entries_by_engagement([key])
    entry = next(e.id for e in entries if e.external_ref == target.key)
    before = {w.engagement_key: w.hours for w in await adapter.get_uninvoiced([key])}
    await sandbox.reset_calls()
    await adapter.approve_time_entries([entry])
    [after] = await adapter.get_uninvoiced([key])
    assert after.hours == before.get(key, Decimal(0)) + target.hours
    assert await sandbox.calls(REPORT) == 1
    with pytest.raises(NotFound):  # refused: nothing was approved
        await adapter.approve_time_entries([RecordId("42")])
    assert await adapter.get_uninvoiced([key]) == [after]
    assert await sandbox.calls(REPORT) == 1


async def test_with_the_report_budget_used_up_the_stale_report_is_served_without_a_call(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = busiest(firm, 3)
    expected = await cold_uninvoiced(make_adapter, firm, keys)
    await sandbox.reset_calls()
    clock = FakeClock()
    sleep = RecordedSleeps(clock=clock)
    adapter = make_adapter(
        today=lambda: firm.as_of, clock=clock, sleep=sleep, report_ttl_s=60, report_rate_limit=2
    )
    start = clock.now
    for _ in range(3):  # the third: the next slot is 780 s away, far beyond the 5 s timeout
        assert await adapter.get_uninvoiced(keys) == expected
        clock.now += 60
    assert await sandbox.calls(REPORT) == 2 and sleep.delays == []
    clock.now = start + 900 - 3  # a slot frees within the timeout: it is waited for
    assert await adapter.get_uninvoiced(keys) == expected
    assert sleep.delays == [pytest.approx(3.0)]
    assert await sandbox.calls(REPORT) == 3


async def test_with_the_report_budget_used_up_and_no_report_kept_a_read_is_unavailable(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = busiest(firm, 3)
    clock = FakeClock()
    sleep = RecordedSleeps(clock=clock)
    adapter = make_adapter(
        today=lambda: firm.as_of, clock=clock, sleep=sleep, report_ttl_s=0, report_rate_limit=2
    )
    for _ in range(2):
        assert await adapter.get_uninvoiced(keys)
    clock.now += 100
    with pytest.raises(UpstreamUnavailable) as caught:
        await adapter.get_uninvoiced(keys)
    assert str(caught.value) == "harvest: Harvest report quota used up; next slot in 800 s"
    assert caught.value.status is None
    assert await sandbox.calls(REPORT) == 2 and sleep.delays == []
    assert await adapter.get_time_entries_by_engagement(keys[:1])  # other calls go on


async def test_a_retried_report_call_takes_a_slot_of_the_report_budget_too(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    async def clear_faults() -> None:
        await sandbox.faults(error_rate=0)

    keys = busiest(firm, 3)
    expected = await cold_uninvoiced(make_adapter, firm, keys)
    await sandbox.reset_calls()
    clock = FakeClock()
    adapter = make_adapter(
        transport=FailFirstReport(sandbox),
        today=lambda: firm.as_of,
        clock=clock,
        sleep=RecordedSleeps(clear_faults, clock=clock),
        report_rate_limit=2,
    )
    assert await adapter.get_uninvoiced(keys) == expected  # a 5xx, then the retry: two slots
    adapter.invalidate_uninvoiced()
    assert await adapter.get_uninvoiced(keys) == expected  # no slot left: the report kept
    assert await sandbox.calls(REPORT) == 2


async def test_the_report_ttl_is_read_from_settings_and_wired_into_the_adapter(
    sandbox: SandboxControl, firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EG_HARVEST_REPORT_TTL_S", raising=False)
    assert Settings().harvest_report_ttl_s == 60
    monkeypatch.setenv("EG_HARVEST_REPORT_TTL_S", "0")
    settings = Settings()
    assert settings.harvest_report_ttl_s == 0
    systems = build_systems(settings, {"harvest": sandbox.transport})
    try:
        keys = busiest(firm, 1)
        for _ in range(2):
            assert await systems.time.get_uninvoiced(keys)
    finally:
        await systems.aclose()
    assert await sandbox.calls(REPORT) == 2  # 0: every read asks Harvest


# -- the project directory ----------------------------------------------------------

OCTOBER = date(2026, 10, 1)


async def test_time_entries_and_uninvoiced_work_read_together_share_one_projects_listing(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = harvest_keys(firm)
    cold = make_adapter(today=lambda: firm.as_of)
    expected_work = await cold.get_uninvoiced(keys)
    expected_entries = await cold.get_time_entries_by_engagement(keys, date_from=OCTOBER)
    assert expected_work and expected_entries
    adapter = make_adapter(today=lambda: firm.as_of, report_ttl_s=0)  # a report read each time
    for listings in (1, 0):  # a cold directory, then a warm one
        await sandbox.reset_calls()
        work, entries = await asyncio.gather(
            adapter.get_uninvoiced(keys),
            adapter.get_time_entries_by_engagement(keys, date_from=OCTOBER),
        )
        assert work == expected_work and entries == expected_entries
        calls = await sandbox.by_endpoint()
        assert calls.get(PROJECTS, 0) == listings, calls
        assert calls.get(REPORT) == 1 and calls.get("GET /v2/time_entries") == 1, calls


async def test_the_projects_are_listed_again_once_the_directory_ttl_expires(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    clock = FakeClock()
    adapter = make_adapter(clock=clock, directory_ttl_s=60.0)
    keys = busiest(firm, 2)
    first = await adapter.get_expenses_by_engagement(keys)
    clock.now += 59
    assert await adapter.get_expenses_by_engagement(keys) == first
    assert await adapter.get_expenses_by_engagement(keys[:1])
    assert await sandbox.calls(PROJECTS) == 1
    clock.now += 1
    assert await adapter.get_expenses_by_engagement(keys) == first
    assert await sandbox.calls(PROJECTS) == 2


async def test_an_unknown_key_is_looked_up_once_per_ttl(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    clock = FakeClock()
    adapter = make_adapter(clock=clock)  # the default TTL: 300 s
    unknown = EngagementKey("ENG-1999-00001")
    known = busiest(firm, 1)[0]
    for _ in range(3):
        assert await adapter.get_time_entries_by_engagement([unknown]) == []
    assert await sandbox.calls(PROJECTS) == 1
    assert await adapter.get_time_entries_by_engagement([unknown, known])  # learnt from the listing
    assert await sandbox.calls(PROJECTS) == 1
    clock.now += 300
    assert await adapter.get_time_entries_by_engagement([unknown]) == []
    assert await adapter.get_time_entries_by_engagement([unknown]) == []
    assert await sandbox.calls(PROJECTS) == 2


async def test_a_create_finds_its_project_in_a_warm_directory(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    command = new_entry(firm, "TE-D-1")
    await adapter.get_time_entries_by_engagement([command.engagement_key])
    await sandbox.reset_calls()
    created = await adapter.create_time_entry(command)
    assert created.engagement_key == command.engagement_key
    assert PROJECTS not in await sandbox.by_endpoint()


async def test_a_failed_listing_fails_every_reader_sharing_it_and_is_not_remembered(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = busiest(firm, 2)
    await sandbox.faults(error_rate=1)
    outcomes = await asyncio.gather(
        adapter.get_time_entries_by_engagement(keys),
        adapter.get_expenses_by_engagement(keys),
        return_exceptions=True,
    )
    assert all(isinstance(o, UpstreamUnavailable) for o in outcomes), outcomes
    assert await sandbox.by_endpoint() == {PROJECTS: FAST.max_attempts}  # one shared listing
    await sandbox.faults(error_rate=0)
    await sandbox.reset_calls()
    assert await adapter.get_expenses_by_engagement(keys)
    assert await sandbox.calls(PROJECTS) == 1


class Hold(httpx.AsyncBaseTransport):
    """Holds every request to `path` until `release` is set; `entered` tells one came."""

    def __init__(self, sandbox: SandboxControl, path: str) -> None:
        self.sandbox = sandbox
        self.path = path
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == self.path:
            self.entered.set()
            await self.release.wait()
        return await self.sandbox.transport.handle_async_request(request)


async def test_a_cancelled_reader_leaves_the_shared_listing_to_the_others(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    hold = Hold(sandbox, "/v2/projects")
    adapter = make_adapter(transport=hold)
    keys = busiest(firm, 2)
    leaving = asyncio.create_task(adapter.get_time_entries_by_engagement(keys))
    staying = asyncio.create_task(adapter.get_expenses_by_engagement(keys))
    await asyncio.wait_for(hold.entered.wait(), timeout=5)
    leaving.cancel()
    hold.release.set()
    assert await asyncio.wait_for(staying, timeout=5)
    assert leaving.cancelled()
    assert await sandbox.calls(PROJECTS) == 1


async def test_a_zero_ttl_remembers_nothing_but_still_shares_a_listing_in_flight(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    adapter = make_adapter(directory_ttl_s=0)
    keys = busiest(firm, 2)
    await asyncio.gather(
        adapter.get_time_entries_by_engagement(keys), adapter.get_expenses_by_engagement(keys)
    )
    assert await sandbox.calls(PROJECTS) == 1
    await adapter.get_expenses_by_engagement(keys)
    assert await sandbox.calls(PROJECTS) == 2


# -- writes -------------------------------------------------------------------------


async def open_entries(adapter: HarvestAdapter, firm: Firm, count: int) -> list[RecordId]:
    keys = {t.engagement_key for t in firm.time_entries if not t.approved}
    entries = await adapter.get_time_entries_by_engagement(sorted(EngagementKey(k) for k in keys))
    return [e.id for e in entries if e.approval is not ApprovalStatus.APPROVED][:count]


async def test_approving_closes_entries_and_a_replay_changes_nothing(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    ids = await open_entries(adapter, firm, 2)
    await sandbox.reset_calls()
    approved = await adapter.approve_time_entries(ids)
    assert [e.id for e in approved] == ids
    assert all(e.approval is ApprovalStatus.APPROVED and e.locked for e in approved)
    replayed = await adapter.approve_time_entries(ids)
    assert replayed == approved  # same updated_at: nothing changed the second time
    assert await sandbox.by_endpoint() == {f"PATCH /v2/time_entries/{i}": 2 for i in ids}
    listing = await sandbox.vendor("GET", "/v2/time_entries", params={"per_page": 1})
    assert listing["total_entries"] == len(firm.time_entries)


async def test_approval_is_idempotent_so_a_server_error_is_retried(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    async def clear_faults() -> None:
        await sandbox.faults(error_rate=0)

    adapter = make_adapter(sleep=RecordedSleeps(clear_faults))
    [entry_id] = await open_entries(adapter, firm, 1)
    await sandbox.reset_calls()
    await sandbox.faults(error_rate=1)
    [approved] = await adapter.approve_time_entries([entry_id])
    assert approved.approval is ApprovalStatus.APPROVED
    assert await sandbox.by_endpoint() == {f"PATCH /v2/time_entries/{entry_id}": 2}


async def test_approving_an_invoiced_entry_is_rejected_with_harvests_message(
    adapter: HarvestAdapter, firm: Firm
) -> None:
    billed = next(t for t in firm.time_entries if t.invoice)
    entries = await adapter.get_time_entries_by_engagement([EngagementKey(billed.engagement_key)])
    target = next(e for e in entries if e.external_ref == billed.key)
    with pytest.raises(UpstreamRejected) as caught:
        await adapter.approve_time_entries([target.id])
    error = caught.value
    assert error.system == "harvest" and error.status == 422
    assert error.vendor_message is not None and "invoiced" in error.vendor_message
    assert not isinstance(error, NotFound)


async def test_approving_an_unknown_entry_raises_not_found(adapter: HarvestAdapter) -> None:
    with pytest.raises(NotFound) as caught:
        await adapter.approve_time_entries([RecordId("42")])
    assert caught.value.status == 404 and caught.value.vendor_code == "Not Found"


def new_entry(firm: Firm, ref: str, hours: str = "2.50") -> TimeEntryCreate:
    active = next(e for e in firm.engagements if e.status == "ACTIVE" and "harvest" in e.present_in)
    return TimeEntryCreate(
        external_ref=ref,
        engagement_key=EngagementKey(active.key),
        spent_date=firm.as_of,
        hours=Decimal(hours),
        task=sorted({t.task for t in firm.time_entries})[0],
        notes="Workshop prep",
    )


async def test_creating_a_time_entry_sends_exact_hours_and_maps_the_answer(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    command = new_entry(firm, "TE-C-1")
    created = await adapter.create_time_entry(command)
    assert created.external_ref == "TE-C-1" and created.engagement_key == command.engagement_key
    assert created.hours == Decimal("2.50") and str(created.hours) == "2.50"
    assert created.approval is ApprovalStatus.UNSUBMITTED
    assert await sandbox.calls("POST /v2/time_entries") == 1


async def test_a_replayed_create_returns_the_existing_entry_and_creates_nothing(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    first = await adapter.create_time_entry(new_entry(firm, "TE-C-2"))
    again = await adapter.create_time_entry(new_entry(firm, "TE-C-2"))
    assert again == first
    assert await sandbox.calls("POST /v2/time_entries") == 1
    found = await sandbox.vendor(
        "GET", "/v2/time_entries", params={"external_reference_id": "TE-C-2"}
    )
    assert found["total_entries"] == 1


async def test_a_vendor_validation_error_is_upstream_rejected_and_not_retried(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        await adapter.create_time_entry(new_entry(firm, "TE-C-3", hours="25"))
    error = caught.value
    assert error.status == 422 and error.vendor_code is None
    assert error.vendor_message == "hours must be between 0 and 24"
    assert await sandbox.calls("POST /v2/time_entries") == 1


class FailPosts(httpx.AsyncBaseTransport):
    """Arms the sandbox's error_rate just before the first POST goes through."""

    def __init__(self, sandbox: SandboxControl) -> None:
        self.sandbox = sandbox

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            await self.sandbox.faults(error_rate=1)
        return await self.sandbox.transport.handle_async_request(request)


async def test_a_create_without_idempotency_is_not_retried_after_a_server_error(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    adapter = make_adapter(transport=FailPosts(sandbox))
    with pytest.raises(UpstreamUnavailable):
        await adapter.create_time_entry(new_entry(firm, "TE-C-4"))
    assert await sandbox.calls("POST /v2/time_entries") == 1
    await sandbox.faults(error_rate=0)
    created = await make_adapter().create_time_entry(new_entry(firm, "TE-C-4"))
    assert created.external_ref == "TE-C-4"


# -- failures -----------------------------------------------------------------------


async def test_a_bad_token_raises_auth_failed_with_the_vendor_code(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    with pytest.raises(AuthFailed) as caught:
        await make_adapter(token="revoked").get_time_entries_by_engagement(busiest(firm, 1))
    error = caught.value
    assert error.status == 401 and error.vendor_code == "invalid_token"
    assert error.vendor_message is not None and "expired, revoked" in error.vendor_message
    assert await sandbox.calls() == 1


async def test_a_foreign_account_raises_auth_failed(
    make_adapter: AdapterFactory, firm: Firm
) -> None:
    with pytest.raises(AuthFailed) as caught:
        await make_adapter(account_id="7654321").get_expenses_by_engagement(busiest(firm, 1))
    assert caught.value.status == 403 and caught.value.vendor_code == "forbidden"


async def test_throttling_honours_retry_after_then_surfaces_unavailable(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    sleep = RecordedSleeps()
    adapter = make_adapter(sleep=sleep)
    await sandbox.faults(rate_limit_rate=1, retry_after_s=7)
    with pytest.raises(UpstreamUnavailable) as caught:
        await adapter.get_time_entries_by_engagement(busiest(firm, 1))
    assert caught.value.status == 429
    assert sleep.delays == [7.0, 7.0]
    assert await sandbox.calls() == FAST.max_attempts


async def test_the_real_rate_limit_is_waited_out_for_as_long_as_retry_after_says(
    make_adapter: AdapterFactory, firm: Firm
) -> None:
    clock = FakeClock()
    limited = SandboxControl(create_app(firm, rate_limit=2, rate_window_s=15, clock=clock), BASE)
    sleep = RecordedSleeps(clock=clock)
    adapter = make_adapter(transport=limited.transport, sleep=sleep)
    await adapter.health()
    entries = await adapter.get_time_entries_by_engagement(busiest(firm, 1))
    assert entries
    assert sleep.delays == [15.0]
    assert await limited.by_endpoint() == {
        "GET /v2/company": 1,
        "GET /v2/projects": 1,
        "GET /v2/time_entries": 2,
    }
    await limited.aclose()


async def test_server_errors_are_retried_then_surface_as_upstream_unavailable(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    await sandbox.faults(error_rate=1)
    with pytest.raises(UpstreamUnavailable) as caught:
        await adapter.get_expenses_by_engagement(busiest(firm, 1))
    assert caught.value.status in (500, 503) and caught.value.system == "harvest"
    assert await sandbox.calls() == FAST.max_attempts


async def test_one_server_error_is_retried_to_success(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    async def clear_faults() -> None:
        await sandbox.faults(error_rate=0)

    sleep = RecordedSleeps(clear_faults)
    adapter = make_adapter(sleep=sleep)
    await sandbox.faults(error_rate=1)
    health = await adapter.health()
    assert health.ok
    assert len(sleep.delays) == 1
    assert await sandbox.calls("GET /v2/company") == 2


def breaker(adapter: HarvestAdapter) -> BreakerState:
    return adapter.breaker_state  # read afresh: the state changes between asserts


async def test_the_breaker_opens_after_n_failures_and_half_opens_after_the_timeout(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    clock = FakeClock()
    policy = ResiliencePolicy(
        max_attempts=1, breaker_failure_threshold=2, breaker_reset_timeout_s=30.0
    )
    adapter = make_adapter(policy=policy, clock=clock)
    key = busiest(firm, 1)
    await sandbox.faults(error_rate=1)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await adapter.get_time_entries_by_engagement(key)
    assert breaker(adapter) is BreakerState.OPEN
    with pytest.raises(CircuitOpen):
        await adapter.get_time_entries_by_engagement(key)
    assert await sandbox.calls() == 2  # the refused call never reached Harvest
    await sandbox.faults(error_rate=0)
    clock.now += 30
    assert breaker(adapter) is BreakerState.HALF_OPEN
    assert await adapter.get_time_entries_by_engagement(key)
    assert breaker(adapter) is BreakerState.CLOSED
    assert await sandbox.calls() == 4


# -- the client-side rate limit -----------------------------------------------------


class StatusLog(httpx.AsyncBaseTransport):
    """Passes requests to `inner` and keeps each answer's ``(status, path)``."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.answers: list[tuple[int, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.answers.append((response.status_code, request.url.path))
        return response

    def throttled(self) -> list[str]:
        return [path for status, path in self.answers if status == 429]


def entry_id(path: str) -> RecordId:
    return RecordId(path.rsplit("/", 1)[1])


@pytest.fixture
async def limited(firm: Firm) -> AsyncIterator[tuple[SandboxControl, FakeClock]]:
    """A sandbox enforcing Harvest's real limit (100 / 15 s) on a fake clock."""
    clock = FakeClock()
    box = SandboxControl(create_app(firm, clock=clock), BASE, VENDOR_HEADERS)
    yield box, clock
    await box.aclose()


async def test_150_approvals_with_the_default_settings_wait_for_the_limit_instead_of_a_429(
    make_adapter: AdapterFactory, limited: tuple[SandboxControl, FakeClock], firm: Firm
) -> None:
    box, clock = limited
    log = StatusLog(box.transport)
    sleep = RecordedSleeps(clock=clock)
    policy = Settings().resilience_policy()  # Retry-After over 10 s is not waited for
    adapter = make_adapter(transport=log, policy=policy, clock=clock, sleep=sleep)
    ids = await open_entries(adapter, firm, 150)
    assert len(ids) == 150
    clock.now += 15  # the reads' window has passed
    sleep.delays.clear()
    await box.reset_calls()
    approved = await adapter.approve_time_entries(ids)
    assert [e.id for e in approved] == ids
    assert all(e.approval is ApprovalStatus.APPROVED for e in approved)
    assert sleep.delays == [pytest.approx(15.0)]  # the 101st call waited for the window
    assert log.throttled() == []
    assert await box.by_endpoint() == {f"PATCH /v2/time_entries/{i}": 1 for i in ids}


async def test_without_the_limiter_the_vendor_refuses_the_tail_and_a_replay_finishes_it(
    make_adapter: AdapterFactory, limited: tuple[SandboxControl, FakeClock], firm: Firm
) -> None:
    box, clock = limited
    log = StatusLog(box.transport)
    sleep = RecordedSleeps(clock=clock)
    unlimited = partial(make_adapter, transport=log, clock=clock, sleep=sleep, rate_limit=None)
    adapter = unlimited(policy=Settings().resilience_policy())
    ids = await open_entries(adapter, firm, 150)
    clock.now += 15
    sleep.delays.clear()
    log.answers.clear()
    with pytest.raises(UpstreamUnavailable) as caught:
        await adapter.approve_time_entries(ids)
    error = caught.value
    assert error.status == 429 and error.system == "harvest"
    assert log.throttled() and sleep.delays == []  # Retry-After 15 s > 10 s: not waited for
    approved = {entry_id(path) for status, path in log.answers if status == 200}
    failed = [i for i in ids if i not in approved]
    assert len(approved) == 100 and len(failed) == 50  # the rest: 429s, then the breaker
    message = str(error)
    assert "approved 100 of 150 time entries; 50 failed" in message
    assert f"(ids {', '.join(failed)})" in message and "retry the whole call" in message
    throttled = len(log.throttled())
    clock.now += 15
    replay = make_adapter(transport=log, clock=clock, sleep=sleep)  # limited, a fresh breaker
    replayed = await replay.approve_time_entries(ids)
    assert [e.id for e in replayed] == ids
    assert all(e.approval is ApprovalStatus.APPROVED for e in replayed)
    assert len(log.throttled()) == throttled  # the limited replay was refused nothing


async def test_a_partly_failed_approval_says_how_many_were_approved_and_which_failed(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    open_ids = await open_entries(adapter, firm, 2)
    billed = next(t for t in firm.time_entries if t.invoice)
    entries = await adapter.get_time_entries_by_engagement([EngagementKey(billed.engagement_key)])
    invoiced = next(e.id for e in entries if e.external_ref == billed.key)
    ids = [open_ids[0], invoiced, RecordId("42"), open_ids[1]]
    with pytest.raises(UpstreamRejected) as caught:  # the first failure, in id order
        await adapter.approve_time_entries(ids)
    error = caught.value
    assert error.status == 422 and error.vendor_message is not None
    assert "invoiced" in error.vendor_message
    assert str(error).startswith(
        f"harvest: approved 2 of 4 time entries; 2 failed (ids {invoiced}, 42)"
    )
    for entry_id_ in open_ids:
        found = await sandbox.vendor("GET", f"/v2/time_entries/{entry_id_}")
        assert found["is_closed"] is True


async def test_a_retry_takes_a_slot_of_the_window_too(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    async def clear_faults() -> None:
        await sandbox.faults(error_rate=0)

    clock = FakeClock()
    sleep = RecordedSleeps(clear_faults, clock=clock)
    adapter = make_adapter(clock=clock, sleep=sleep, rate_limit=2, rate_window_s=15)
    await sandbox.faults(error_rate=1)
    assert (await adapter.health()).ok  # a 5xx, a backoff, then the retry: two slots
    backoff = sleep.delays[0]
    assert (await adapter.health()).ok
    assert sleep.delays == [backoff, pytest.approx(15.0 - backoff)]
    assert await sandbox.calls("GET /v2/company") == 3


@pytest.mark.parametrize("setting", ["rate_limit", "report_rate_limit"])
def test_a_rate_limit_below_one_is_refused(setting: str) -> None:
    zero: dict[str, Any] = {setting: 0}
    with pytest.raises(ValueError, match=f"^{setting} must be at least 1"):
        HarvestAdapter(
            base_url=BASE, token=HARVEST_TOKEN, account_id=HARVEST_ACCOUNT_ID, policy=FAST, **zero
        )


# -- concurrent pages vs. writes between them ---------------------------------------


async def cursor_walk(sandbox: SandboxControl) -> list[dict[str, Any]]:
    """Every time entry, newest first, by following ``links.next`` from a fresh first page."""
    page = await sandbox.vendor("GET", "/v2/time_entries", params={"per_page": 2000})
    found: list[dict[str, Any]] = list(page["time_entries"])
    while page["links"]["next"] is not None:
        page = await sandbox.vendor("GET", page["links"]["next"])
        found += page["time_entries"]
    return found


class WriteAfterFirstPage(httpx.AsyncBaseTransport):
    """Runs `write` once, just after the first page of ``/v2/time_entries`` is served."""

    def __init__(self, sandbox: SandboxControl, write: Callable[[], Awaitable[object]]) -> None:
        self.sandbox = sandbox
        self.write = write
        self.written = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.sandbox.transport.handle_async_request(request)
        params = request.url.params
        first = "page" not in params and "cursor" not in params
        if request.url.path == "/v2/time_entries" and first and not self.written:
            self.written = True
            await self.write()
        return response


@pytest.mark.parametrize("write", ["create", "move"])
async def test_rows_written_between_concurrent_pages_make_the_listing_reread_by_cursor(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm, write: str
) -> None:
    before = await cursor_walk(sandbox)
    keys = harvest_keys(firm)
    active = new_entry(firm, "TE-W-1")
    template = next(r for r in before if r["project"]["code"] == active.engagement_key)
    newest_open = next(r for r in before if not r["is_locked"])
    written: list[int] = []

    async def create() -> None:  # a new newest row: the total grows, rows shift down
        body = {
            "project_id": template["project"]["id"],
            "task_id": template["task"]["id"],
            "spent_date": firm.as_of.isoformat(),
            "hours": 1,
            "external_reference": {"id": "TE-W-1", "group_id": active.engagement_key},
        }
        created = await sandbox.vendor("POST", "/v2/time_entries", json=body)
        written.append(created["id"])

    async def move() -> None:  # a row of page 1 becomes the oldest: the total stays
        oldest = date.fromisoformat(before[-1]["spent_date"]).toordinal()
        moved = await sandbox.vendor(
            "PATCH",
            f"/v2/time_entries/{newest_open['id']}",
            json={"spent_date": date.fromordinal(oldest - 1).isoformat()},
        )
        written.append(moved["id"])

    adapter = make_adapter(
        transport=WriteAfterFirstPage(sandbox, create if write == "create" else move)
    )
    await sandbox.reset_calls()
    entries = await adapter.get_time_entries_by_engagement(keys)
    reads = [r["query"] for r in (await sandbox.http.get("/__sandbox/requests")).json()["requests"]]
    after = await cursor_walk(sandbox)
    assert len(after) == len(before) + (write == "create")
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids))  # no row twice
    codes = set(keys)
    assert ids == [str(r["id"]) for r in after if r["project"]["code"] in codes]  # no gap
    assert str(written[0]) in ids
    pages = math.ceil(len(before) / 2000)
    by_number = [q for q in reads if "page=" in q.replace("per_page=", "")]
    by_cursor = [q for q in reads if "cursor=" in q]
    assert len(by_number) == pages - 1 and len(by_cursor) == len(by_number)
