"""The Harvest adapter against its sandbox, over httpx.ASGITransport."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal
from functools import partial

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
from domain.models import ApprovalStatus
from domain.money import Money
from domain.ports import TimeTracking
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
