"""Kantata writes for governed transitions: staffing, milestones, acceptance, lost answers.

The adapter against the Kantata sandbox over httpx.ASGITransport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from functools import partial

import pytest

from adapters.kantata import KantataAdapter
from domain.commands import AssignmentCreate, MilestoneCreate, ProjectCreate
from domain.errors import InvalidInput, NotFound, UpstreamUnavailable
from domain.ids import EngagementKey, RecordId
from domain.models import MilestoneState
from domain.money import Money
from sandboxes.firm import Firm
from sandboxes.kantata import KANTATA_TOKEN, create_app
from tests.sandbox_support import FaultOnce
from tests.support import RecordedSleeps, SandboxControl, fast_policy

BASE = "http://kantata.test"
ALLOCATIONS = "POST /api/v1/workspace_allocations.json"
RESOURCES = "POST /api/v1/workspace_resources.json"
STORIES = "POST /api/v1/stories.json"
REFS = "POST /api/v1/external_references.json"


@pytest.fixture
async def sandbox(firm: Firm) -> AsyncIterator[SandboxControl]:
    box = SandboxControl(create_app(firm), BASE, {"Authorization": f"Bearer {KANTATA_TOKEN}"})
    yield box
    await box.aclose()


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
async def adapter(sandbox: SandboxControl, sleeps: RecordedSleeps) -> AsyncIterator[KantataAdapter]:
    build = partial(
        KantataAdapter,
        base_url=BASE,
        token=KANTATA_TOKEN,
        policy=fast_policy(breaker_failure_threshold=50),
        transport=sandbox.transport,
        sleep=sleeps,
    )
    made = build()
    yield made
    await made.aclose()


def _engagement(firm: Firm) -> EngagementKey:
    return EngagementKey(
        next(e.key for e in firm.engagements if "kantata" in e.present_in and e.status == "ACTIVE")
    )


async def _assignment(adapter: KantataAdapter, firm: Firm, **values: object) -> AssignmentCreate:
    people = await adapter.list_people()
    fields: dict[str, object] = {
        "engagement_key": _engagement(firm),
        "person_id": people[-1].id,
        "role": "Data Engineer",
        "allocation_percent": 40,
        "start_date": date(2026, 12, 1),
        "end_date": date(2027, 2, 26),
        "idempotency_key": "ENG:assign:test-1",
        **values,
    }
    return AssignmentCreate.model_validate(fields)


def _milestone(firm: Firm, **values: object) -> MilestoneCreate:
    key = _engagement(firm)
    currency = next(e.currency for e in firm.engagements if e.key == key)
    fields: dict[str, object] = {
        "engagement_key": key,
        "external_ref": "MS-TEST-1",
        "title": "Design approved",
        "due_date": date(2027, 1, 29),
        "amount": Money.of("15000.05", currency),
        **values,
    }
    return MilestoneCreate.model_validate(fields)


# -- staffing ---------------------------------------------------------------------------


async def test_assign_resource_staffs_once_and_a_replay_creates_nothing(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    command = await _assignment(adapter, firm)
    made = await adapter.assign_resource(command)
    assert (made.engagement_key, made.person_id, made.role) == (
        command.engagement_key,
        command.person_id,
        "Data Engineer",
    )
    assert (made.allocation_percent, made.start_date, made.end_date) == (
        40,
        command.start_date,
        command.end_date,
    )
    assert (await sandbox.calls(RESOURCES), await sandbox.calls(ALLOCATIONS)) == (1, 1)
    again = await adapter.assign_resource(command)
    assert again == made
    assert (await sandbox.calls(RESOURCES), await sandbox.calls(ALLOCATIONS)) == (1, 1)
    staffed = await adapter.get_assignments([command.engagement_key])
    assert [a.id for a in staffed].count(made.id) == 1


async def test_a_second_span_reuses_the_person_s_resource_in_that_role(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    first = await adapter.assign_resource(await _assignment(adapter, firm))
    later = await _assignment(
        adapter,
        firm,
        start_date=date(2027, 3, 1),
        end_date=date(2027, 3, 31),
        allocation_percent=80,
        idempotency_key="ENG:assign:test-2",
    )
    second = await adapter.assign_resource(later)
    assert second.id == first.id and second.allocation_percent == 80
    assert (await sandbox.calls(RESOURCES), await sandbox.calls(ALLOCATIONS)) == (1, 2)


async def test_assigning_on_an_engagement_without_a_project_is_not_found(
    adapter: KantataAdapter, firm: Firm
) -> None:
    command = await _assignment(adapter, firm, engagement_key="ENG-2026-99999")
    with pytest.raises(NotFound):
        await adapter.assign_resource(command)


@pytest.mark.parametrize("lost", [RESOURCES, ALLOCATIONS])
async def test_a_write_whose_answer_is_lost_is_found_not_duplicated(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm, lost: str
) -> None:
    command = await _assignment(adapter, firm)
    method, path = lost.split(" ", 1)
    lossy = FaultOnce(sandbox.transport, method, path, fault="error_after_rate")
    other = KantataAdapter(
        base_url=BASE, token=KANTATA_TOKEN, policy=fast_policy(), transport=lossy
    )
    try:
        made = await other.assign_resource(command)  # the lost answer is looked up, not re-sent
    finally:
        await other.aclose()
    assert not lossy.armed
    assert (await sandbox.calls(RESOURCES), await sandbox.calls(ALLOCATIONS)) == (1, 1)
    assert await adapter.assign_resource(command) == made
    spans = await adapter.list_allocations(command.start_date, command.end_date)
    assert len([a for a in spans if a.id == made.id]) == 1


async def test_a_lost_post_answer_is_recovered_within_the_call(
    adapter: KantataAdapter, sandbox: SandboxControl, sleeps: RecordedSleeps, firm: Firm
) -> None:
    command = await _assignment(adapter, firm)
    await sandbox.faults(error_after_rate=1)
    sleeps.hook = lambda: sandbox.faults(error_after_rate=0)  # the look-up's retry succeeds
    made = await adapter.assign_resource(command)
    assert made.allocation_percent == 40
    sleeps.hook = None
    await sandbox.reset_calls()
    assert await adapter.assign_resource(command) == made
    assert await sandbox.calls(ALLOCATIONS) == 0


async def test_list_allocations_returns_every_overlapping_span_with_its_engagement(
    adapter: KantataAdapter, firm: Firm
) -> None:
    window = (date(2026, 6, 1), date(2026, 6, 30))
    found = await adapter.list_allocations(*window)
    wanted = [
        a
        for a in firm.assignments
        if a.start_date <= window[1]
        and a.end_date >= window[0]
        and "kantata" in next(e for e in firm.engagements if e.key == a.engagement_key).present_in
    ]
    assert wanted and len(found) == len(wanted)
    assert sorted((a.engagement_key or "", a.start_date, a.allocation_percent) for a in found) == (
        sorted((a.engagement_key, a.start_date, a.allocation_percent) for a in wanted)
    )
    assert all(a.start_date <= window[1] and a.end_date >= window[0] for a in found)  # type: ignore[operator]


# -- milestones -------------------------------------------------------------------------


async def test_seeded_milestones_carry_their_firm_key(adapter: KantataAdapter, firm: Firm) -> None:
    keys = [EngagementKey(e.key) for e in firm.engagements if "kantata" in e.present_in]
    milestones = await adapter.get_milestones(keys)
    wanted = {(m.key, m.title, m.due_date) for m in firm.milestones if m.engagement_key in keys}
    assert {(m.external_ref, m.title, m.due_date) for m in milestones} == wanted
    assert all(m.external_ref and m.external_ref.startswith("MS-") for m in milestones)


async def test_create_milestone_once_then_replays_return_it(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    command = _milestone(firm)
    made = await adapter.create_milestone(command)
    assert (made.external_ref, made.title, made.amount, made.state) == (
        "MS-TEST-1",
        "Design approved",
        command.amount,
        MilestoneState.NOT_STARTED,
    )
    assert made.engagement_key == command.engagement_key
    again = await adapter.create_milestone(command)
    assert again.id == made.id
    assert (await sandbox.calls(STORIES), await sandbox.calls(REFS)) == (1, 1)
    listed = await adapter.get_milestones([command.engagement_key])
    assert [m.external_ref for m in listed].count("MS-TEST-1") == 1


@pytest.mark.parametrize("lost", [STORIES, REFS])
async def test_a_milestone_whose_answer_is_lost_is_created_once(
    adapter: KantataAdapter, sandbox: SandboxControl, firm: Firm, lost: str
) -> None:
    command = _milestone(firm)
    method, path = lost.split(" ", 1)
    lossy = FaultOnce(sandbox.transport, method, path, fault="error_after_rate")
    other = KantataAdapter(
        base_url=BASE, token=KANTATA_TOKEN, policy=fast_policy(), transport=lossy
    )
    try:
        made = await other.create_milestone(command)
    finally:
        await other.aclose()
    assert not lossy.armed and made.external_ref == "MS-TEST-1"
    assert (await sandbox.calls(STORIES), await sandbox.calls(REFS)) == (1, 1)
    listed = await adapter.get_milestones([command.engagement_key])
    assert [m.id for m in listed if m.external_ref == "MS-TEST-1"] == [made.id]


async def test_a_milestone_in_another_currency_is_invalid_input(
    adapter: KantataAdapter, firm: Firm
) -> None:
    command = _milestone(firm, amount=Money.of("10", "JPY"))
    with pytest.raises(InvalidInput):
        await adapter.create_milestone(command)


async def test_accepting_twice_is_harmless_and_keeps_the_key(
    adapter: KantataAdapter, firm: Firm
) -> None:
    keys = [EngagementKey(e.key) for e in firm.engagements if "kantata" in e.present_in]
    accepted = next(
        m for m in await adapter.get_milestones(keys) if m.state is MilestoneState.ACCEPTED
    )
    again = await adapter.accept_milestone(accepted.id)
    assert (again.state, again.external_ref, again.amount) == (
        MilestoneState.ACCEPTED,
        accepted.external_ref,
        accepted.amount,
    )


async def test_a_not_completed_milestone_may_be_accepted_as_the_sandbox_allows(
    adapter: KantataAdapter, firm: Firm
) -> None:
    made = await adapter.create_milestone(_milestone(firm))
    accepted = await adapter.accept_milestone(made.id)
    assert accepted.state is MilestoneState.ACCEPTED
    assert accepted.external_ref == "MS-TEST-1"


async def test_create_project_whose_answer_is_lost_yields_one_workspace_on_replay(
    adapter: KantataAdapter, sandbox: SandboxControl
) -> None:
    command = ProjectCreate(
        engagement_key=EngagementKey("ENG-2026-99902"),
        name="Lost answers",
        template="CLOUD",
        start_date=date(2027, 1, 4),
        end_date=date(2027, 6, 30),
    )
    await sandbox.faults(error_after_rate=1)
    with pytest.raises(UpstreamUnavailable):
        await adapter.create_project(command)
    await sandbox.faults(error_after_rate=0)
    project = await adapter.create_project(command)
    matching = await sandbox.vendor(
        "GET", "/api/v1/workspaces.json", params={"matching": "ENG-2026-99902"}
    )
    assert [r["id"] for r in matching["results"]] == [project.id]
    assert await sandbox.calls("POST /api/v1/workspaces.json") == 1
    assert project.id != RecordId("")
