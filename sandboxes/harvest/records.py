"""Harvest's records as the sandbox keeps them in memory (mutable, one per row).

Nested references (``user``, ``project``, ``client``...) are stored as ids and
rendered live from the referenced record, as Harvest does. Approval and
locking are derived from `approval_status` and `invoice`, so they can never
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

__all__ = [
    "APPROVED_LOCK_REASON",
    "INVOICED_LOCK_REASON",
    "ApprovalStatus",
    "ClientRec",
    "ExpenseCategoryRec",
    "ExpenseRec",
    "ExternalRef",
    "InvoiceLineRec",
    "InvoiceRec",
    "InvoiceRef",
    "ProjectRec",
    "TaskRec",
    "TimeEntryRec",
    "UserRec",
]

ApprovalStatus = Literal["unsubmitted", "submitted", "approved"]
APPROVED_LOCK_REASON = "Item Approved and Locked for this Time Period"
INVOICED_LOCK_REASON = "Item Invoiced and Locked for this Time Period"  # unverified wording


@dataclass(slots=True)
class ClientRec:
    id: int
    name: str
    is_active: bool
    currency: str
    statement_key: str
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class ProjectRec:
    id: int
    client_id: int
    name: str
    code: str
    is_active: bool
    is_billable: bool
    is_fixed_fee: bool
    bill_by: str
    budget: Decimal | None
    budget_by: str
    budget_is_monthly: bool
    hourly_rate: Decimal | None
    fee: Decimal | None
    starts_on: date | None
    ends_on: date | None
    created_at: datetime
    updated_at: datetime
    notes: str = ""


@dataclass(slots=True)
class UserRec:
    id: int
    first_name: str
    last_name: str
    email: str
    is_active: bool
    is_contractor: bool
    weekly_capacity: int  # seconds
    default_hourly_rate: Decimal | None
    cost_rate: Decimal | None
    roles: list[str]
    access_roles: list[str]
    created_at: datetime
    updated_at: datetime
    timezone: str = "Eastern Time (US & Canada)"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(slots=True)
class TaskRec:
    id: int
    name: str
    billable_by_default: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime
    default_hourly_rate: Decimal | None = None
    is_default: bool = False


@dataclass(slots=True)
class ExpenseCategoryRec:
    id: int
    name: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
    unit_name: str | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ExternalRef:
    id: str
    group_id: str | None
    account_id: str | None
    permalink: str | None
    service: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    id: int
    number: str


@dataclass(slots=True)
class InvoiceLineRec:
    id: int
    project_id: int | None
    kind: str  # "Service" (time) or "Product" (expenses)
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(slots=True)
class InvoiceRec:
    id: int
    client_id: int
    number: str
    currency: str
    issue_date: date
    due_date: date
    state: Literal["draft", "open", "paid", "closed"]
    line_items: list[InvoiceLineRec]
    created_at: datetime
    updated_at: datetime
    subject: str | None = None
    notes: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    payment_term: str = "custom"

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.line_items), Decimal(0))

    @property
    def ref(self) -> InvoiceRef:
        return InvoiceRef(self.id, self.number)


class _Lockable:
    """Approval and locking of a time entry or an expense, derived from two fields."""

    __slots__ = ()
    approval_status: ApprovalStatus
    invoice: InvoiceRef | None

    @property
    def is_closed(self) -> bool:
        return self.approval_status == "approved"

    @property
    def is_billed(self) -> bool:
        return self.invoice is not None

    @property
    def is_locked(self) -> bool:
        return self.is_closed or self.is_billed

    @property
    def locked_reason(self) -> str | None:
        if self.is_billed:
            return INVOICED_LOCK_REASON
        return APPROVED_LOCK_REASON if self.is_closed else None


@dataclass(slots=True)
class TimeEntryRec(_Lockable):
    id: int
    spent_date: date
    user_id: int
    project_id: int
    task_id: int
    hours: Decimal
    notes: str | None
    billable: bool
    approval_status: ApprovalStatus
    invoice: InvoiceRef | None
    billable_rate: Decimal | None
    cost_rate: Decimal | None
    external_reference: ExternalRef | None
    created_at: datetime
    updated_at: datetime
    is_running: bool = False
    timer_started_at: datetime | None = None


@dataclass(slots=True)
class ExpenseRec(_Lockable):
    id: int
    spent_date: date
    user_id: int
    project_id: int
    category_id: int
    total_cost: Decimal
    notes: str | None
    billable: bool
    approval_status: ApprovalStatus
    invoice: InvoiceRef | None
    created_at: datetime
    updated_at: datetime
    units: Decimal | None = None
    receipt: dict[str, str] | None = field(default=None)
