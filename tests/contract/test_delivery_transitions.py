"""Delivery transitions: staffing, time and expense approval, milestone acceptance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest

from domain.governance import Role
from domain.ids import EngagementKey
from domain.models import ApprovalStatus, MilestoneState
from sandboxes.firm import Firm
from tests.governance_support import as_role, governed_client, mutate, store, writes
from tests.graph_support import GraphClient
from workflows.systems import Systems

ASSIGN = """mutation($input: AssignResourceInput!, $key: String) {
  assignResource(input: $input, idempotencyKey: $key) {
    __typename
    ... on ResourceAssigned { operationId assignmentId engagementKey }
    ... on BusinessRejection { code message ownerRole exceptionId }
  } }"""

APPROVE = """mutation($ids: [ID!]!, $key: String) {
  approveTimeEntries(ids: $ids, idempotencyKey: $key) {
    __typename
    ... on TimeEntriesApproved { approvedIds alreadyApprovedIds }
    ... on BusinessRejection { code message ownerRole }
  } }"""

REJECT = """mutation($ids: [ID!]!, $reason: String!, $key: String) {
  rejectTimeEntries(ids: $ids, reason: $reason, idempotencyKey: $key) {
    __typename
    ... on TimeEntriesRejected { rejectedIds reason }
    ... on BusinessRejection { code message ownerRole }
  } }"""

EXPENSES = """mutation($ids: [ID!]!, $key: String) {
  approveExpenses(ids: $ids, idempotencyKey: $key) {
    __typename
    ... on ExpensesApproved { approvedIds }
    ... on BusinessRejection { code message }
  } }"""

ACCEPT = """mutation($id: ID!, $key: String) {
  acceptMilestone(milestoneId: $id, idempotencyKey: $key) {
    __typename
    ... on MilestoneAccepted { milestoneId engagementKey }
    ... on BusinessRejection { code message }
  } }"""


@pytest.fixture(params=["embedded", "real"])
async def client(firm: Firm, request: pytest.FixtureRequest) -> AsyncIterator[GraphClient]:
    async with governed_client(firm, request.param) as gateway:
        yield gateway


def systems(client: GraphClient) -> Systems:
    found: Systems = client.app.state.systems
    return found


def _active(firm: Firm) -> Any:
    return next(e for e in firm.engagements if e.status == "ACTIVE" and len(e.present_in) == 4)


async def test_staffing_is_recorded_once_and_over_allocation_is_refused(
    client: GraphClient, firm: Firm
) -> None:
    engagement = _active(firm)
    busy = next(a for a in firm.assignments if a.allocation_percent >= 50)
    person = next(p for p in firm.people if p.key == busy.person)
    [psa_person] = [p for p in await systems(client).psa.list_people() if p.email == person.email]
    manager = as_role(client, Role.RESOURCE_MANAGER)
    start = busy.start_date
    over = {
        "engagementKey": engagement.key,
        "personId": psa_person.id,
        "allocationPercent": 101 - busy.allocation_percent + 10,
        "startDate": start.isoformat(),
        "endDate": (start + timedelta(days=10)).isoformat(),
    }
    refused = await mutate(client, ASSIGN, {"input": over}, headers=manager)
    result = refused["data"]["assignResource"]
    assert result["__typename"] == "BusinessRejection", refused
    assert result["code"] == "OVER_ALLOCATION" and result["ownerRole"] == "RESOURCE_MANAGER"
    assert [e.code for e in await store(client).business_exceptions([Role.RESOURCE_MANAGER])] == [
        "OVER_ALLOCATION"
    ]
    assert (await writes(client))["kantata"] == 0
    quiet_start = date(2027, 6, 1)  # after the firm's data: nobody is allocated yet
    fine = {
        **over,
        "allocationPercent": 20,
        "startDate": quiet_start.isoformat(),
        "endDate": (quiet_start + timedelta(days=30)).isoformat(),
    }
    first = await mutate(client, ASSIGN, {"input": fine}, headers=manager, key="a-1")
    assigned = first["data"]["assignResource"]
    assert assigned["__typename"] == "ResourceAssigned", first
    again = await mutate(client, ASSIGN, {"input": fine}, headers=manager, key="a-1")
    assert again["data"]["assignResource"] == assigned
    allocations = await systems(client).psa.list_allocations(
        quiet_start, quiet_start + timedelta(days=30)
    )
    mine = [a for a in allocations if a.person_id == psa_person.id]
    assert len(mine) == 1 and mine[0].allocation_percent == 20
    types = [e.type for _, e in await store(client).events()]
    assert types == ["exception.raised", "resource.assigned"]


async def _harvest_entries(client: GraphClient, key: str) -> list[Any]:
    return await systems(client).time.get_time_entries_by_engagement([EngagementKey(key)])


async def test_submitted_time_is_approved_and_billed_time_cannot_be_rejected(
    client: GraphClient, firm: Firm
) -> None:
    waiting = next(t for t in firm.time_entries if not t.approved and t.invoice is None)
    entries = await _harvest_entries(client, waiting.engagement_key)
    [entry] = [e for e in entries if e.external_ref == waiting.key]
    assert entry.approval is not ApprovalStatus.APPROVED
    pmo = as_role(client, Role.PMO)
    body = await mutate(client, APPROVE, {"ids": [entry.id]}, headers=pmo)
    assert body["data"]["approveTimeEntries"] == {
        "__typename": "TimeEntriesApproved",
        "approvedIds": [entry.id],
        "alreadyApprovedIds": [],
    }
    [after] = await systems(client).time.get_time_entries([entry.id])
    assert after.approval is ApprovalStatus.APPROVED
    [(_, event)] = await store(client).events()
    assert event.type == "time.approved" and event.subject == waiting.engagement_key
    billed = next(t for t in firm.time_entries if t.invoice is not None)
    [billed_entry] = [
        e
        for e in await _harvest_entries(client, billed.engagement_key)
        if e.external_ref == billed.key
    ]
    written = await writes(client)
    refused = await mutate(
        client, REJECT, {"ids": [billed_entry.id], "reason": "wrong task"}, headers=pmo
    )
    result = refused["data"]["rejectTimeEntries"]
    assert result["__typename"] == "BusinessRejection" and result["code"] == "TIME_ENTRY_LOCKED"
    assert await writes(client) == written


async def test_unapproved_time_is_sent_back_with_a_reason(client: GraphClient, firm: Firm) -> None:
    waiting = next(t for t in firm.time_entries if not t.approved and t.invoice is None)
    [entry] = [
        e
        for e in await _harvest_entries(client, waiting.engagement_key)
        if e.external_ref == waiting.key
    ]
    pmo = as_role(client, Role.PMO)
    body = await mutate(
        client, REJECT, {"ids": [entry.id], "reason": "book it to design"}, headers=pmo
    )
    assert body["data"]["rejectTimeEntries"] == {
        "__typename": "TimeEntriesRejected",
        "rejectedIds": [entry.id],
        "reason": "book it to design",
    }
    blank = await mutate(client, REJECT, {"ids": [entry.id], "reason": "  "}, headers=pmo)
    assert blank["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_entries_are_refused_and_nothing_changes(client: GraphClient) -> None:
    body = await mutate(client, APPROVE, {"ids": ["999999999"]}, headers=as_role(client, Role.PMO))
    result = body["data"]["approveTimeEntries"]
    assert result["__typename"] == "BusinessRejection"
    assert result["code"] == "UNKNOWN_TIME_ENTRIES" and "999999999" in result["message"]
    assert (await writes(client))["harvest"] == 0
    empty = await mutate(client, APPROVE, {"ids": []}, headers=as_role(client, Role.PMO))
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_expenses_are_approved(client: GraphClient, firm: Firm) -> None:
    waiting = next(x for x in firm.expenses if not x.approved and x.invoice is None)
    expenses = await systems(client).time.get_expenses_by_engagement(
        [EngagementKey(waiting.engagement_key)]
    )
    target = next(x for x in expenses if not x.approved and not x.billed)
    body = await mutate(
        client, EXPENSES, {"ids": [target.id]}, headers=as_role(client, Role.FINANCE)
    )
    assert body["data"]["approveExpenses"]["approvedIds"] == [target.id]
    [(_, event)] = await store(client).events()
    assert event.type == "expense.approved"


async def test_a_completed_milestone_is_accepted_once(client: GraphClient, firm: Firm) -> None:
    done = next(m for m in firm.milestones if m.state == "completed" and not m.accepted)
    milestones = await systems(client).psa.get_milestones([EngagementKey(done.engagement_key)])
    [milestone] = [m for m in milestones if m.external_ref == done.key]
    pmo = as_role(client, Role.PMO)
    body = await mutate(client, ACCEPT, {"id": milestone.id}, headers=pmo, key="m-1")
    assert body["data"]["acceptMilestone"] == {
        "__typename": "MilestoneAccepted",
        "milestoneId": milestone.id,
        "engagementKey": done.engagement_key,
    }
    again = await mutate(client, ACCEPT, {"id": milestone.id}, headers=pmo, key="m-1")
    assert again["data"]["acceptMilestone"] == body["data"]["acceptMilestone"]
    [after] = [
        m
        for m in await systems(client).psa.get_milestones([EngagementKey(done.engagement_key)])
        if m.id == milestone.id
    ]
    assert after.state is MilestoneState.ACCEPTED
    events = [e for _, e in await store(client).events()]
    assert [e.type for e in events] == ["milestone.accepted"]
