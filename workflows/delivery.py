"""Delivery transitions: staffing, time and expense approval, milestone acceptance.

Each is one journaled step that validates first (unknown ids, billed or locked
entries, over-allocation are business refusals that change nothing) and then
acts through the system's adapter, committing its canonical event with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.commands import AssignmentCreate
from domain.errors import BusinessRuleViolation, UpstreamRejected
from domain.events import (
    Event,
    ExpenseApproved,
    MilestoneAccepted,
    ResourceAssigned,
    TimeApproved,
    TimeRejected,
)
from domain.governance import Role
from domain.ids import EngagementKey, RecordId
from domain.models import ApprovalStatus, TimeEntry
from domain.operations import Commit, Operation
from workflows.journal_context import StepContext
from workflows.operations import Step, StepResult
from workflows.policy import check_over_allocation
from workflows.systems import Systems

__all__ = [
    "AcceptMilestone",
    "ApproveExpenses",
    "ApproveTime",
    "AssignResource",
    "RejectTime",
]


def _refuse(code: str, message: str, role: Role = Role.PMO) -> BusinessRuleViolation:
    return BusinessRuleViolation(message, owner_role=role, code=code)


def _ids(operation: Operation, field: str = "ids") -> list[RecordId]:
    return [RecordId(str(i)) for i in operation.input[field]]


@dataclass(frozen=True, slots=True)
class AssignResource:
    systems: Systems
    threshold_percent: int = 100
    name: str = "assignResource"

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step("assign", self._assign)]

    async def _assign(self, context: StepContext) -> StepResult:
        data = context.operation.input
        key = EngagementKey(str(data["engagement_key"]))
        start, end = date.fromisoformat(data["start_date"]), date.fromisoformat(data["end_date"])
        person_id, percent = RecordId(str(data["person_id"])), int(data["allocation_percent"])
        projects = await self.systems.psa.get_projects_by_engagement([key])
        if not projects:
            raise _refuse("ENGAGEMENT_NOT_ACTIVE", f"{key} has no PSA project: activate it first")
        people = await self.systems.psa.get_people([person_id])
        if not people:
            raise _refuse("UNKNOWN_PERSON", f"no PSA person {person_id}", Role.RESOURCE_MANAGER)
        allocations = await self.systems.psa.list_allocations(start, end)
        check = check_over_allocation(
            person_id, allocations, start, end, percent, self.threshold_percent
        )
        if not check.passed:
            raise _refuse("OVER_ALLOCATION", check.reason, Role.RESOURCE_MANAGER)
        command = AssignmentCreate(
            engagement_key=key,
            person_id=person_id,
            role=str(data.get("role") or people[0].role or "Consultant"),
            allocation_percent=percent,
            start_date=start,
            end_date=end,
            idempotency_key=context.operation.id[-100:],
        )
        assignment = await self.systems.psa.assign_resource(command)
        event = context.event(
            ResourceAssigned,
            assignment_id=assignment.id,
            person_id=person_id,
            role=command.role,
            allocation_percent=percent,
            start_date=start.isoformat(),
            end_date=end.isoformat(),
        )
        out = {"assignment_id": assignment.id, "engagement_key": key}
        return StepResult(output=out, commit=Commit(events=(event,)), result=out)


async def _entries(systems: Systems, ids: list[RecordId]) -> list[TimeEntry]:
    entries = await systems.time.get_time_entries(ids)
    unknown = sorted(set(ids) - {e.id for e in entries})
    if unknown:
        raise _refuse("UNKNOWN_TIME_ENTRIES", f"no time entries {', '.join(unknown)}; none changed")
    return entries


def _by_engagement(entries: Sequence[TimeEntry]) -> dict[str, list[TimeEntry]]:
    grouped: dict[str, list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        grouped[entry.engagement_key or ""].append(entry)
    return grouped


@dataclass(frozen=True, slots=True)
class ApproveTime:
    systems: Systems
    name: str = "approveTimeEntries"

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step("approve", self._approve)]

    async def _approve(self, context: StepContext) -> StepResult:
        entries = await _entries(self.systems, _ids(context.operation))
        billed = [e.id for e in entries if e.billed]
        if billed:
            raise _refuse(
                "TIME_ENTRY_BILLED",
                f"time entries {', '.join(billed)} are already billed and cannot change;"
                " none were approved",
            )
        todo = [e.id for e in entries if e.approval is not ApprovalStatus.APPROVED]
        approved = await self.systems.time.approve_time_entries(todo) if todo else []
        events: list[Event] = [
            context.event(
                TimeApproved,
                subject=key or None,
                time_entry_ids=[e.id for e in group],
                hours=str(sum((e.hours for e in group), Decimal(0))),
            )
            for key, group in _by_engagement(entries).items()
        ]
        out = {"approved": [e.id for e in approved], "already_approved": sorted(
            set(e.id for e in entries) - set(todo))}  # fmt: skip
        audit = tuple(
            context.audit(key or None, after={"approved": [e.id for e in group if e.id in todo]})
            for key, group in _by_engagement(entries).items()
        )
        return StepResult(output=out, commit=Commit(events=tuple(events), audit=audit), result=out)


@dataclass(frozen=True, slots=True)
class RejectTime:
    systems: Systems
    name: str = "rejectTimeEntries"

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step("reject", self._reject)]

    async def _reject(self, context: StepContext) -> StepResult:
        reason = str(context.operation.input.get("reason") or "").strip()
        if not reason:
            raise _refuse("REASON_REQUIRED", "rejecting time needs a reason for the person")
        entries = await _entries(self.systems, _ids(context.operation))
        refused = [e.id for e in entries if e.billed or e.locked]
        if refused:
            raise _refuse(
                "TIME_ENTRY_LOCKED",
                f"time entries {', '.join(refused)} are billed or locked and cannot be"
                " rejected; none were rejected",
            )
        try:
            rejected = await self.systems.time.reject_time_entries([e.id for e in entries], reason)
        except UpstreamRejected as refusal:
            raise _refuse("TIME_ENTRY_LOCKED", str(refusal)) from refusal
        events = tuple(
            context.event(
                TimeRejected,
                subject=key or None,
                time_entry_ids=[e.id for e in group],
                reason=reason,
            )
            for key, group in _by_engagement(entries).items()
        )
        out = {"rejected": [e.id for e in rejected], "reason": reason}
        audit = tuple(
            context.audit(key or None, after={"rejected": [e.id for e in group], "reason": reason})
            for key, group in _by_engagement(entries).items()
        )
        return StepResult(output=out, commit=Commit(events=events, audit=audit), result=out)


@dataclass(frozen=True, slots=True)
class ApproveExpenses:
    systems: Systems
    name: str = "approveExpenses"

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step("approve", self._approve)]

    async def _approve(self, context: StepContext) -> StepResult:
        ids = _ids(context.operation)
        try:
            approved = await self.systems.time.approve_expenses(ids)
        except UpstreamRejected as refusal:
            code = "UNKNOWN_EXPENSES" if refusal.status == 404 else "EXPENSE_BILLED"
            raise _refuse(code, f"expenses {', '.join(ids)}: {refusal}") from refusal
        grouped: dict[str, list[str]] = defaultdict(list)
        for expense in approved:
            grouped[expense.engagement_key or ""].append(expense.id)
        events = tuple(
            context.event(ExpenseApproved, subject=key or None, expense_ids=group)
            for key, group in grouped.items()
        )
        out = {"approved": [e.id for e in approved]}
        audit = tuple(
            context.audit(key or None, after={"approved": group}) for key, group in grouped.items()
        )
        return StepResult(output=out, commit=Commit(events=events, audit=audit), result=out)


@dataclass(frozen=True, slots=True)
class AcceptMilestone:
    systems: Systems
    name: str = "acceptMilestone"

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step("accept", self._accept)]

    async def _accept(self, context: StepContext) -> StepResult:
        milestone_id = RecordId(str(context.operation.input["milestone_id"]))
        try:
            milestone = await self.systems.psa.accept_milestone(milestone_id)
        except UpstreamRejected as refusal:
            code = "UNKNOWN_MILESTONE" if refusal.status == 404 else "MILESTONE_NOT_ACCEPTABLE"
            raise _refuse(code, f"milestone {milestone_id}: {refusal}") from refusal
        event = context.event(
            MilestoneAccepted,
            subject=milestone.engagement_key,
            milestone_id=milestone.id,
            amount=str(milestone.amount.amount) if milestone.amount else None,
            currency=milestone.amount.currency if milestone.amount else None,
        )
        out = {"milestone_id": milestone.id, "engagement_key": milestone.engagement_key}
        audit = context.audit(milestone.engagement_key, after={"accepted": milestone.id})
        return StepResult(output=out, commit=Commit(events=(event,), audit=(audit,)), result=out)
