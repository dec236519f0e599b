"""The Kantata adapter against its sandbox, over httpx.ASGITransport."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest

from adapters.kantata import KantataAdapter
from adapters.kantata.mapping import project_from
from adapters.resilience import ResiliencePolicy
from domain.commands import ProjectCreate
from domain.errors import (
    AuthFailed,
    CircuitOpen,
    MappingFailed,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from domain.health import BreakerState
from domain.ids import EngagementKey, RecordId
from domain.models import Milestone, MilestoneState, ProjectStatus
from domain.money import Money
from domain.ports import PSA
from sandboxes.firm import Firm
from sandboxes.kantata import KANTATA_TOKEN, create_app
from tests.sandbox_support import FaultOnce
from tests.support import FakeClock, RecordedSleeps, SandboxControl, closing_factory, fast_policy

BASE = "http://kantata.test"
FAST = fast_policy(breaker_failure_threshold=50, breaker_reset_timeout_s=30.0)


@pytest.fixture
async def sandbox(firm: Firm) -> AsyncIterator[SandboxControl]:
    box = SandboxControl(create_app(firm), BASE, {"Authorization": f"Bearer {KANTATA_TOKEN}"})
    yield box
    await box.aclose()


AdapterFactory = Callable[..., KantataAdapter]


@pytest.fixture
async def make_adapter(sandbox: SandboxControl) -> AsyncIterator[AdapterFactory]:
    build = partial(
        KantataAdapter, base_url=BASE, token=KANTATA_TOKEN, policy=FAST, transport=sandbox.transport
    )
    async with closing_factory(build) as make:
        yield make


@pytest.fixture
def adapter(make_adapter: AdapterFactory) -> KantataAdapter:
    return make_adapter()


def kantata_keys(firm: Firm) -> list[EngagementKey]:
    return [EngagementKey(e.key) for e in firm.engagements if "kantata" in e.present_in]


def test_the_adapter_satisfies_the_psa_port(adapter: KantataAdapter) -> None:
    port: PSA = adapter
    assert port.name == "kantata"


# -- reads ---------------------------------------------------------------------------


async def test_projects_by_engagement_map_every_linked_workspace(
    adapter: KantataAdapter, firm: Firm
) -> None:
    keys = kantata_keys(firm)
    projects = await adapter.get_projects_by_engagement(keys)
    assert sorted(p.engagement_key or "" for p in projects) == sorted(keys)
    engagements = {e.key: e for e in firm.engagements}
    for project in projects:
        engagement = engagements[project.engagement_key or ""]
        assert project.name == engagement.name
        assert project.start_date == engagement.start_date
        assert project.end_date == engagement.end_date
        assert project.budget == Money.of(engagement.contract_value, engagement.currency)
        expected = ProjectStatus.COMPLETED if engagement.status == "COMPLETED" else None
        if expected:
            assert project.status is expected
        else:
            assert project.status in (ProjectStatus.ACTIVE, ProjectStatus.PLANNED)
        assert project.modified_at is not None


async def test_a_project_read_by_id_carries_its_engagement_key(
    adapter: KantataAdapter, firm: Firm
) -> None:
    [linked] = await adapter.get_projects_by_engagement(kantata_keys(firm)[:1])
    project = await adapter.get_project(linked.id)
    assert project == linked
    assert isinstance(project.budget, Money) and isinstance(project.budget.amount, Decimal)


async def test_an_unknown_project_is_not_found_with_the_vendor_message(
    adapter: KantataAdapter,
) -> None:
    with pytest.raises(NotFound) as caught:
        await adapter.get_project(RecordId("42"))
    assert caught.value.system == "kantata"
    assert caught.value.status == 404
    assert caught.value.vendor_code == "system"
    assert caught.value.vendor_message == "Couldn't find Workspace with id=42"


async def test_get_projects_of_500_ids_takes_three_calls(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    real = [p.id for p in await adapter.get_projects_by_engagement(kantata_keys(firm))]
    ids = real + [RecordId(str(900_000 + i)) for i in range(500 - len(real))]
    await sandbox.reset_calls()
    projects = await adapter.get_projects(ids)
    assert await sandbox.calls() == 3
    assert await sandbox.calls("GET /api/v1/workspaces.json") == 3
    assert sorted(p.id for p in projects) == sorted(real)
    assert all(p.engagement_key for p in projects)


async def test_projects_by_500_engagement_keys_take_three_calls(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = kantata_keys(firm)
    asked = keys + [EngagementKey(f"ENG-2099-{i:05d}") for i in range(500 - len(keys))]
    await sandbox.reset_calls()
    projects = await adapter.get_projects_by_engagement(asked)
    assert await sandbox.calls() == 3
    assert len(projects) == len(keys)


async def test_listing_people_follows_every_page(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    adapter = make_adapter(page_size=7)
    people = await adapter.list_people()
    assert await sandbox.calls("GET /api/v1/users.json") == math.ceil(len(firm.people) / 7)
    assert len({p.id for p in people}) == len(firm.people)
    by_email = {p.email: p for p in firm.people}
    for person in people:
        source = by_email[person.email]
        assert person.name == f"{source.first_name} {source.last_name}"
        assert person.role == source.role


async def test_people_by_id_come_back_in_one_call(
    adapter: KantataAdapter, sandbox: SandboxControl
) -> None:
    everyone = await adapter.list_people()
    wanted = [p.id for p in everyone[::3]]
    await sandbox.reset_calls()
    people = await adapter.get_people([*wanted, RecordId("1")])
    assert await sandbox.calls() == 1
    assert [p.id for p in people] == wanted


async def test_assignments_carry_person_role_percent_and_dates(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = kantata_keys(firm)
    await sandbox.reset_calls()
    assignments = await adapter.get_assignments(keys)
    staffed = [a for a in firm.assignments if a.engagement_key in set(keys)]
    # one call for the linked workspaces, then every page of resources (+ allocations, roles)
    assert await sandbox.calls() == 1 + math.ceil(len(staffed) / 200)
    people = {p.id: p.email for p in await adapter.list_people()}
    key_of_person = {p.email: p.key for p in firm.people}
    got = sorted(
        (
            a.engagement_key or "",
            key_of_person[people[a.person_id or RecordId("")]],
            a.role or "",
            a.allocation_percent or 0,
            a.start_date or date.min,
            a.end_date or date.min,
        )
        for a in assignments
    )
    wanted = sorted(
        (a.engagement_key, a.person, a.role, a.allocation_percent, a.start_date, a.end_date)
        for a in staffed
    )
    assert got == wanted


async def test_milestones_carry_amount_state_and_acceptance(
    adapter: KantataAdapter, firm: Firm
) -> None:
    keys = kantata_keys(firm)
    milestones = await adapter.get_milestones(keys)
    currency = {e.key: e.currency for e in firm.engagements}
    got = sorted(
        (m.engagement_key or "", m.title, m.due_date or date.min, m.amount, m.state)
        for m in milestones
    )
    states = {
        "not started": MilestoneState.NOT_STARTED,
        "started": MilestoneState.STARTED,
        "completed": MilestoneState.COMPLETED,
    }
    wanted = sorted(
        (
            m.engagement_key,
            m.title,
            m.due_date,
            Money.of(m.amount, currency[m.engagement_key]),
            MilestoneState.ACCEPTED if m.accepted else states[m.state],
        )
        for m in firm.milestones
        if m.engagement_key in set(keys)
    )
    assert got == wanted


async def test_rate_cards_match_the_firm_rate_card_per_version_and_currency(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    await sandbox.reset_calls()
    cards = await adapter.list_rate_cards()
    assert await sandbox.calls() == 1
    got = {(c.version, c.currency, r.role): r.rate for c in cards for r in c.rates}
    wanted = {
        (r.version, r.currency, r.role): Money.of(r.bill_rate, r.currency) for r in firm.rate_card
    }
    assert got == wanted


# -- writes ----------------------------------------------------------------------------


def new_project(key: str = "ENG-2026-99901", **changes: Any) -> ProjectCreate:
    values: dict[str, Any] = {
        "engagement_key": EngagementKey(key),
        "name": "Northwind - New Platform",
        "template": "Cloud Delivery",
        "start_date": date(2026, 11, 2),
        "end_date": date(2027, 4, 30),
        "budget": Money.of("250000.10", "EUR"),
        **changes,
    }
    return ProjectCreate(**values)


async def test_create_project_makes_a_linked_workspace(
    adapter: KantataAdapter, sandbox: SandboxControl
) -> None:
    project = await adapter.create_project(new_project())
    assert project.engagement_key == "ENG-2026-99901"
    assert project.budget == Money.of("250000.10", "EUR")
    assert project.status is ProjectStatus.PLANNED
    [found] = await adapter.get_projects_by_engagement([EngagementKey("ENG-2026-99901")])
    assert found.id == project.id
    assert await sandbox.calls("POST /api/v1/workspaces.json") == 1
    assert await sandbox.calls("POST /api/v1/external_references.json") == 1


async def test_replaying_create_project_creates_nothing(
    adapter: KantataAdapter, sandbox: SandboxControl
) -> None:
    first = await adapter.create_project(new_project())
    await sandbox.reset_calls()
    again = await adapter.create_project(new_project())
    assert again.id == first.id
    assert await sandbox.calls("POST /api/v1/workspaces.json") == 0
    assert await sandbox.calls("POST /api/v1/external_references.json") == 0


async def test_a_failed_create_is_not_retried_and_a_replay_makes_one_workspace(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    failing = FaultOnce(sandbox.transport, "POST", "/api/v1/workspaces.json", fault="error_rate")
    adapter = make_adapter(transport=failing)
    with pytest.raises(UpstreamUnavailable) as caught:
        await adapter.create_project(new_project())
    assert caught.value.vendor_code == "system"
    assert await sandbox.calls("POST /api/v1/workspaces.json") == 1
    assert await adapter.get_projects_by_engagement([EngagementKey("ENG-2026-99901")]) == []

    project = await adapter.create_project(new_project())
    assert await sandbox.calls("POST /api/v1/workspaces.json") == 2
    linked = await adapter.get_projects_by_engagement([EngagementKey("ENG-2026-99901")])
    assert [p.id for p in linked] == [project.id]


async def test_a_replay_after_losing_the_link_reuses_the_orphan_workspace(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    failing = FaultOnce(
        sandbox.transport, "POST", "/api/v1/external_references.json", fault="error_rate"
    )
    adapter = make_adapter(transport=failing)
    with pytest.raises(UpstreamUnavailable):
        await adapter.create_project(new_project())
    assert await sandbox.calls("POST /api/v1/external_references.json") == 1

    project = await adapter.create_project(new_project())
    assert await sandbox.calls("POST /api/v1/workspaces.json") == 1
    assert await sandbox.calls("POST /api/v1/external_references.json") == 2
    matching = await sandbox.vendor(
        "GET", "/api/v1/workspaces.json", params={"matching": "ENG-2026-99901"}
    )
    assert [r["id"] for r in matching["results"]] == [project.id]


async def test_a_refused_create_keeps_the_vendor_code_and_message(
    adapter: KantataAdapter,
) -> None:
    command = new_project(start_date=date(2027, 5, 1), end_date=date(2027, 1, 1))
    with pytest.raises(UpstreamRejected) as caught:
        await adapter.create_project(command)
    assert type(caught.value) is UpstreamRejected
    assert caught.value.status == 422
    assert caught.value.vendor_code == "validation"
    assert caught.value.vendor_message == "Due date must be on or after the start date"


async def test_accepting_a_milestone_marks_it_accepted(adapter: KantataAdapter, firm: Firm) -> None:
    milestones = await adapter.get_milestones(kantata_keys(firm))
    pending = next(m for m in milestones if m.state is not MilestoneState.ACCEPTED)
    accepted = await adapter.accept_milestone(pending.id)
    assert accepted.state is MilestoneState.ACCEPTED
    assert accepted.engagement_key == pending.engagement_key
    assert accepted.amount == pending.amount
    assert accepted.modified_at and pending.modified_at
    assert accepted.modified_at > pending.modified_at
    again = await adapter.get_milestones([pending.engagement_key or EngagementKey("")])
    assert next(m for m in again if m.id == pending.id).state is MilestoneState.ACCEPTED


async def test_accepting_an_unknown_milestone_is_not_found(adapter: KantataAdapter) -> None:
    with pytest.raises(NotFound):
        await adapter.accept_milestone(RecordId("7"))


async def test_accepting_a_task_is_refused_by_the_vendor(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    [project] = await adapter.get_projects_by_engagement(kantata_keys(firm)[:1])
    created = await sandbox.vendor(
        "POST", "/api/v1/stories.json", json={"story": {"workspace_id": project.id, "title": "T"}}
    )
    with pytest.raises(UpstreamRejected) as caught:
        await adapter.accept_milestone(RecordId(created["results"][0]["id"]))
    assert caught.value.vendor_code == "validation"
    assert caught.value.vendor_message == "State is not included in the list"


# -- workspace directory -----------------------------------------------------------------

STORIES = "GET /api/v1/stories.json"
RESOURCES = "GET /api/v1/workspace_resources.json"
WORKSPACES = "GET /api/v1/workspaces.json"


class Recording(httpx.AsyncBaseTransport):
    """Passes requests to the sandbox and keeps them, to see what a call asked for."""

    def __init__(self, inner: httpx.ASGITransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def asked(self, path: str, param: str) -> list[str]:
        return [
            value
            for r in self.requests
            if r.url.path == path
            for value in r.url.params.get(param, "").split(",")
            if value
        ]


def milestone_rows(milestones: list[Milestone]) -> list[tuple[str, str, str, Money | None]]:
    return sorted((m.id, m.engagement_key or "", m.project_id, m.amount) for m in milestones)


async def test_after_projects_by_engagement_milestones_and_assignments_need_no_look_up(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = kantata_keys(firm)
    cold = make_adapter()
    cold_milestones = await cold.get_milestones(keys)
    cold_assignments = await cold.get_assignments(keys)
    adapter = make_adapter()
    await adapter.get_projects_by_engagement(keys)

    await sandbox.reset_calls()
    milestones = await adapter.get_milestones(keys)
    assert await sandbox.by_endpoint() == {STORIES: 1}
    assert milestone_rows(milestones) == milestone_rows(cold_milestones)

    await sandbox.reset_calls()
    assignments = await adapter.get_assignments(keys)
    staffed = [a for a in firm.assignments if a.engagement_key in set(keys)]
    # one listing of resources (allocations and roles side-loaded), ≤200 per page
    pages = math.ceil(len(staffed) / 200)
    assert pages == 3
    assert await sandbox.by_endpoint() == {RESOURCES: pages}
    assert sorted(assignments, key=lambda a: a.id) == sorted(cold_assignments, key=lambda a: a.id)


async def test_cold_milestones_take_one_look_up_and_one_listing(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    milestones = await adapter.get_milestones(kantata_keys(firm))
    assert await sandbox.by_endpoint() == {WORKSPACES: 1, STORIES: 1}
    assert milestones and all(m.engagement_key for m in milestones)
    await sandbox.reset_calls()
    assert milestone_rows(await adapter.get_milestones(kantata_keys(firm))) == milestone_rows(
        milestones
    )
    assert await sandbox.by_endpoint() == {STORIES: 1}


async def test_only_the_keys_the_directory_lacks_are_looked_up(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = kantata_keys(firm)
    recording = Recording(sandbox.transport)
    adapter = make_adapter(transport=recording)
    await adapter.get_projects_by_engagement(keys[:50])
    recording.requests.clear()
    await sandbox.reset_calls()
    milestones = await adapter.get_milestones(keys)
    assert await sandbox.by_endpoint() == {WORKSPACES: 1, STORIES: 1}
    refs = recording.asked("/api/v1/workspaces.json", "external_reference_service_model_refs")
    assert sorted(refs) == sorted(keys[50:])
    assert {m.engagement_key for m in milestones} == {
        EngagementKey(m.engagement_key) for m in firm.milestones if m.engagement_key in set(keys)
    }


async def test_project_reads_by_id_fill_the_directory(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = kantata_keys(firm)
    ids = [p.id for p in await make_adapter().get_projects_by_engagement(keys)]
    adapter = make_adapter()
    await adapter.get_projects(ids[1:])
    await adapter.get_project(ids[0])
    await sandbox.reset_calls()
    milestones = await adapter.get_milestones(keys)
    assert await sandbox.by_endpoint() == {STORIES: 1}
    assert {m.project_id for m in milestones} <= set(ids)


async def test_the_directory_looks_up_again_once_the_ttl_has_passed(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    clock = FakeClock()
    adapter = make_adapter(clock=clock, directory_ttl_s=60.0)
    keys = kantata_keys(firm)
    await adapter.get_milestones(keys)
    clock.now += 59.9
    await sandbox.reset_calls()
    await adapter.get_milestones(keys)
    assert await sandbox.by_endpoint() == {STORIES: 1}
    clock.now += 0.1
    await sandbox.reset_calls()
    await adapter.get_milestones(keys)
    assert await sandbox.by_endpoint() == {WORKSPACES: 1, STORIES: 1}


async def test_an_unknown_key_costs_one_look_up_per_ttl(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    clock = FakeClock()
    adapter = make_adapter(clock=clock)  # default TTL: 300 s
    unknown = [EngagementKey("ENG-2099-00001")]
    assert await adapter.get_milestones(unknown) == []
    assert await sandbox.by_endpoint() == {WORKSPACES: 1}
    await sandbox.reset_calls()
    assert await adapter.get_milestones(unknown) == []
    assert await adapter.get_assignments(unknown) == []
    clock.now += 299.0
    assert await adapter.get_milestones(unknown) == []
    assert await sandbox.calls() == 0
    clock.now += 1.0
    assert await adapter.get_assignments(unknown) == []
    assert await sandbox.by_endpoint() == {WORKSPACES: 1}


async def test_500_keys_most_unknown_are_looked_up_in_chunks_then_remembered(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = kantata_keys(firm)
    asked = keys + [EngagementKey(f"ENG-2099-{i:05d}") for i in range(500 - len(keys))]
    first = await adapter.get_milestones(asked)
    assert await sandbox.by_endpoint() == {WORKSPACES: 3, STORIES: 1}
    await sandbox.reset_calls()
    assert milestone_rows(await adapter.get_milestones(asked)) == milestone_rows(first)
    assert await sandbox.by_endpoint() == {STORIES: 1}


async def test_create_project_records_its_workspace_so_milestones_need_no_look_up(
    adapter: KantataAdapter, sandbox: SandboxControl
) -> None:
    key = EngagementKey("ENG-2026-99901")
    assert await adapter.get_milestones([key]) == []  # now remembered as absent
    project = await adapter.create_project(new_project())
    await sandbox.vendor(
        "POST",
        "/api/v1/stories.json",
        json={
            "story": {
                "workspace_id": project.id,
                "title": "Kick-off",
                "story_type": "milestone",
                "budget_estimate_in_cents": 1250,
            }
        },
    )
    await sandbox.reset_calls()
    [milestone] = await adapter.get_milestones([key])
    assert await sandbox.by_endpoint() == {STORIES: 1}
    assert milestone.engagement_key == key and milestone.project_id == project.id
    assert milestone.amount == Money.of("12.50", "EUR")


async def test_a_workspace_created_elsewhere_shows_once_the_absent_entry_expires(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    clock = FakeClock()
    reader = make_adapter(clock=clock)
    key = EngagementKey("ENG-2026-99901")
    assert await reader.get_assignments([key]) == []
    project = await make_adapter().create_project(new_project())  # another adapter instance
    await sandbox.vendor(
        "POST",
        "/api/v1/stories.json",
        json={"story": {"workspace_id": project.id, "title": "Go-live", "story_type": "milestone"}},
    )
    assert await reader.get_milestones([key]) == []  # stale "absent", within the TTL
    clock.now += 300.0
    [milestone] = await reader.get_milestones([key])
    assert milestone.project_id == project.id and milestone.engagement_key == key


async def test_a_zero_ttl_turns_the_directory_off(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    adapter = make_adapter(directory_ttl_s=0)
    keys = kantata_keys(firm)
    await adapter.get_projects_by_engagement(keys)
    for _ in range(2):
        await sandbox.reset_calls()
        await adapter.get_milestones(keys)
        assert await sandbox.by_endpoint() == {WORKSPACES: 1, STORIES: 1}


# -- auth, health, resilience ------------------------------------------------------------


async def test_a_bad_token_is_auth_failed(make_adapter: AdapterFactory) -> None:
    adapter = make_adapter(token="stolen")
    with pytest.raises(AuthFailed) as caught:
        await adapter.list_people()
    assert caught.value.vendor_code == "oauth"
    assert caught.value.status == 401
    health = await adapter.health()
    assert not health.ok and health.system == "kantata"


async def test_health_is_ok_with_a_good_token(
    adapter: KantataAdapter, sandbox: SandboxControl
) -> None:
    health = await adapter.health()
    assert health.ok and health.breaker is BreakerState.CLOSED
    assert await sandbox.calls("GET /api/v1/users/me.json") == 1


async def test_throttling_honours_retry_after_then_gives_up(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    sleep = RecordedSleeps()
    adapter = make_adapter(sleep=sleep)
    await sandbox.faults(rate_limit_rate=1, retry_after_s=2)
    with pytest.raises(UpstreamUnavailable) as caught:
        await adapter.list_people()
    assert sleep.delays == [2.0, 2.0]
    assert caught.value.status == 429 and caught.value.vendor_code == "rate_limit"
    assert await sandbox.calls("GET /api/v1/users.json") == 3


async def test_a_throttled_read_succeeds_once_the_throttle_lifts(
    make_adapter: AdapterFactory, sandbox: SandboxControl, firm: Firm
) -> None:
    async def lift() -> None:
        await sandbox.faults(rate_limit_rate=0)

    sleep = RecordedSleeps(lift)
    adapter = make_adapter(sleep=sleep)
    await sandbox.faults(rate_limit_rate=1, retry_after_s=3)
    people = await adapter.list_people()
    assert len(people) == len(firm.people)
    assert sleep.delays == [3.0]


async def test_server_errors_are_retried_then_surface_as_unavailable(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    sleep = RecordedSleeps()
    adapter = make_adapter(sleep=sleep)
    await sandbox.faults(error_rate=1)
    with pytest.raises(UpstreamUnavailable) as caught:
        await adapter.list_rate_cards()
    assert caught.value.status in (500, 503)
    assert await sandbox.calls("GET /api/v1/rate_card_set_versions.json") == FAST.max_attempts
    assert len(sleep.delays) == FAST.max_attempts - 1


async def test_a_read_succeeds_after_one_server_error(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    async def heal() -> None:
        await sandbox.faults(error_rate=0)

    adapter = make_adapter(sleep=RecordedSleeps(heal))
    await sandbox.faults(error_rate=1)
    cards = await adapter.list_rate_cards()
    assert cards
    assert await sandbox.calls("GET /api/v1/rate_card_set_versions.json") == 2


async def test_a_hanging_call_times_out_as_unavailable(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    policy = ResiliencePolicy(timeout_s=0.05, max_attempts=1)
    adapter = make_adapter(policy=policy)
    await sandbox.faults(timeout_rate=1, hang_ms=2000)
    with pytest.raises(UpstreamUnavailable, match="timed out"):
        await adapter.list_people()
    assert await sandbox.calls("GET /api/v1/users.json") == 1


async def test_the_breaker_opens_then_half_opens_after_the_reset_timeout(
    make_adapter: AdapterFactory, sandbox: SandboxControl
) -> None:
    clock = FakeClock()
    policy = ResiliencePolicy(
        max_attempts=1, breaker_failure_threshold=2, breaker_reset_timeout_s=30.0
    )
    adapter = make_adapter(policy=policy, clock=clock)
    await sandbox.faults(error_rate=1)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable) as failed:
            await adapter.list_rate_cards()
        assert type(failed.value) is UpstreamUnavailable
    assert breaker_of(adapter) is BreakerState.OPEN
    before = await sandbox.calls()
    with pytest.raises(CircuitOpen):
        await adapter.list_rate_cards()
    assert await sandbox.calls() == before

    clock.now += 30.0
    assert breaker_of(adapter) is BreakerState.HALF_OPEN
    await sandbox.faults(error_rate=0)
    assert await adapter.list_rate_cards()
    assert breaker_of(adapter) is BreakerState.CLOSED
    assert await sandbox.calls() == before + 1


def breaker_of(adapter: KantataAdapter) -> BreakerState:
    return adapter.breaker_state


def test_an_unknown_workspace_status_is_a_mapping_failure() -> None:
    workspace = {"id": "1", "title": "T", "status": {"color": "purple", "key": 999, "message": "?"}}
    with pytest.raises(MappingFailed) as caught:
        project_from(workspace, None)
    assert caught.value.system == "kantata"
