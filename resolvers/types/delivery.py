"""Delivery types: assignments, milestones, time entries, expenses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from domain import models
from domain.models import ApprovalStatus, MilestoneState
from resolvers.context import Info
from resolvers.types.common import Money, money
from resolvers.types.reference import Person

__all__ = ["Assignment", "Expense", "ExpenseFilter", "Milestone", "TimeEntry", "TimeEntryFilter"]


@strawberry.type
class Assignment:
    id: strawberry.ID
    role: str | None
    allocation_percent: int | None
    start_date: date | None
    end_date: date | None
    person_id: strawberry.Private[str | None]

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        if self.person_id is None:
            return None
        people = await info.context.reference.people()
        found = next((p for p in people if p.id == self.person_id), None)
        return Person.from_model(found) if found else None

    @classmethod
    def from_model(cls, m: models.Assignment) -> Assignment:
        return cls(
            id=strawberry.ID(m.id),
            role=m.role,
            allocation_percent=m.allocation_percent,
            start_date=m.start_date,
            end_date=m.end_date,
            person_id=m.person_id,
        )


@strawberry.type
class Milestone:
    id: strawberry.ID
    title: str
    due_date: date | None
    amount: Money | None
    state: MilestoneState
    billable: bool

    @classmethod
    def from_model(cls, m: models.Milestone) -> Milestone:
        return cls(
            id=strawberry.ID(m.id),
            title=m.title,
            due_date=m.due_date,
            amount=money(m.amount),
            state=m.state,
            billable=m.billable,
        )


@strawberry.type
class TimeEntry:
    id: strawberry.ID
    external_ref: str | None
    spent_date: date
    hours: Decimal
    billable: bool
    approval: ApprovalStatus
    locked: bool
    billed: bool
    invoice_ref: str | None
    bill_rate: Money | None
    cost_rate: Money | None
    person_id: strawberry.ID | None
    person_name: str | None
    task: str | None
    notes: str | None

    @strawberry.field(description="hours x bill rate, when billable and rated.")
    def billable_value(self) -> Money | None:
        if not self.billable or self.bill_rate is None:
            return None
        return Money(amount=self.hours * self.bill_rate.amount, currency=self.bill_rate.currency)

    @classmethod
    def from_model(cls, m: models.TimeEntry) -> TimeEntry:
        return cls(
            id=strawberry.ID(m.id),
            external_ref=m.external_ref,
            spent_date=m.spent_date,
            hours=m.hours,
            billable=m.billable,
            approval=m.approval,
            locked=m.locked,
            billed=m.billed,
            invoice_ref=m.invoice_ref,
            bill_rate=money(m.bill_rate),
            cost_rate=money(m.cost_rate),
            person_id=strawberry.ID(m.person_id) if m.person_id else None,
            person_name=m.person_name,
            task=m.task,
            notes=m.notes,
        )


@strawberry.type
class Expense:
    id: strawberry.ID
    spent_date: date
    amount: Money
    category: str | None
    billable: bool
    approved: bool
    billed: bool
    notes: str | None

    @classmethod
    def from_model(cls, m: models.Expense) -> Expense:
        return cls(
            id=strawberry.ID(m.id),
            spent_date=m.spent_date,
            amount=Money.from_model(m.amount),
            category=m.category,
            billable=m.billable,
            approved=m.approved,
            billed=m.billed,
            notes=m.notes,
        )


@strawberry.input(description="Narrows an engagement's time entries.")
class TimeEntryFilter:
    from_date: date | None = strawberry.field(default=None, name="from")
    to_date: date | None = strawberry.field(default=None, name="to")
    approval: ApprovalStatus | None = None
    billed: bool | None = None
    billable: bool | None = None


@strawberry.input(description="Narrows an engagement's expenses.")
class ExpenseFilter:
    from_date: date | None = strawberry.field(default=None, name="from")
    to_date: date | None = strawberry.field(default=None, name="to")
    billable: bool | None = None
    billed: bool | None = None
