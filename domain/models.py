"""Canonical models: the product's own picture of the firm, free of vendor shapes.

Each model is frozen. Every record carries its own system's id (``id``) and the
natural keys that link systems (``engagement_key``, ``customer_key``). Money is
always `Money`; quantities (hours) are Decimal.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.money import Money

__all__ = [
    "Account",
    "ApprovalStatus",
    "Assignment",
    "BillingModel",
    "BillingSchedule",
    "BillingScheduleKind",
    "BillingScheduleLine",
    "Customer",
    "CustomerStatus",
    "ErpProject",
    "Expense",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "Ledger",
    "LegalEntity",
    "Milestone",
    "MilestoneState",
    "Opportunity",
    "OpportunityLine",
    "Payment",
    "Person",
    "Project",
    "ProjectStatus",
    "RateCard",
    "RateCardRate",
    "TimeEntry",
    "UninvoicedWork",
]


class Canonical(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BillingModel(StrEnum):
    TIME_AND_MATERIALS = "TIME_AND_MATERIALS"
    FIXED_FEE = "FIXED_FEE"
    MILESTONE = "MILESTONE"
    RETAINER = "RETAINER"
    SUBSCRIPTION = "SUBSCRIPTION"


class CustomerStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ON_HOLD = "ON_HOLD"
    PROSPECT = "PROSPECT"
    INACTIVE = "INACTIVE"


class ProjectStatus(StrEnum):
    PLANNED = "PLANNED"
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ApprovalStatus(StrEnum):
    UNSUBMITTED = "UNSUBMITTED"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"


class MilestoneState(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    STARTED = "STARTED"
    COMPLETED = "COMPLETED"
    ACCEPTED = "ACCEPTED"


class InvoiceStatus(StrEnum):
    OPEN = "OPEN"
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"


class BillingScheduleKind(StrEnum):
    PERIODIC = "PERIODIC"
    FIXED = "FIXED"
    MILESTONE = "MILESTONE"
    RECURRING = "RECURRING"


class LegalEntity(Canonical):
    """A subsidiary in the ERP, with its functional currency."""

    id: RecordId
    code: str
    name: str
    country: str
    currency: str


class Customer(Canonical):
    """ERP customer master record."""

    id: RecordId
    key: CustomerKey
    name: str
    legal_entity: str | None  # LegalEntity.code
    currency: str | None
    status: CustomerStatus
    tax_jurisdiction: str | None
    email: str | None = None
    modified_at: datetime | None = None


class Account(Canonical):
    """CRM account (the customer as sales sees it)."""

    id: RecordId
    name: str
    customer_key: CustomerKey | None
    industry: str | None
    currency: str | None
    modified_at: datetime | None = None


class Opportunity(Canonical):
    id: RecordId
    engagement_key: EngagementKey | None
    account_id: RecordId | None
    name: str
    stage: str
    is_won: bool
    is_closed: bool
    amount: Money | None
    close_date: date | None
    probability: int | None
    billing_model: BillingModel | None
    service_line: str | None
    legal_entity: str | None
    rate_card_version: str | None
    invoiced_amount: Money | None
    owner: str | None = None
    customer_key: CustomerKey | None = None  # the account's customer master key
    account_name: str | None = None
    start_date: date | None = None  # the contracted delivery window
    end_date: date | None = None
    modified_at: datetime | None = None


class OpportunityLine(Canonical):
    """A dated commercial line of a deal (CRM opportunity line item): a milestone or
    instalment the customer agreed to, with its amount."""

    id: RecordId
    opportunity_id: RecordId
    description: str
    service_date: date | None
    amount: Money


class Project(Canonical):
    """The delivery project in the PSA."""

    id: RecordId
    engagement_key: EngagementKey | None
    name: str
    status: ProjectStatus
    start_date: date | None
    end_date: date | None
    budget: Money | None
    archived: bool
    modified_at: datetime | None = None


class ErpProject(Canonical):
    """The project (job) in the ERP, with its financial dimensions."""

    id: RecordId
    engagement_key: EngagementKey | None
    customer_id: RecordId | None
    name: str
    subsidiary_id: RecordId | None
    department_id: RecordId | None
    class_id: RecordId | None
    location_id: RecordId | None
    start_date: date | None
    end_date: date | None
    billing_model: BillingModel | None = None
    rate_card_version: str | None = None
    not_to_exceed: Money | None = None
    modified_at: datetime | None = None


class Person(Canonical):
    id: RecordId
    email: str
    name: str
    role: str | None
    legal_entity: str | None = None
    cost_rate: Money | None = None
    default_bill_rate: Money | None = None
    weekly_capacity_hours: Decimal | None = None
    is_contractor: bool = False
    active: bool = True


class RateCardRate(Canonical):
    role: str
    rate: Money


class RateCard(Canonical):
    id: RecordId
    version: str
    currency: str
    rates: tuple[RateCardRate, ...]

    def rate_for(self, role: str) -> Money | None:
        return next((r.rate for r in self.rates if r.role == role), None)


class Assignment(Canonical):
    id: RecordId
    engagement_key: EngagementKey | None
    project_id: RecordId
    person_id: RecordId | None
    role: str | None
    allocation_percent: int | None
    start_date: date | None = None
    end_date: date | None = None


class Milestone(Canonical):
    id: RecordId
    engagement_key: EngagementKey | None
    project_id: RecordId
    title: str
    due_date: date | None
    amount: Money | None
    state: MilestoneState
    billable: bool = True
    external_ref: str | None = None  # the milestone's natural key (MS-00001), billed as a source
    modified_at: datetime | None = None


class TimeEntry(Canonical):
    id: RecordId
    external_ref: str | None
    engagement_key: EngagementKey | None
    person_id: RecordId | None
    person_name: str | None
    spent_date: date
    hours: Decimal
    billable: bool
    approval: ApprovalStatus
    locked: bool
    billed: bool
    invoice_ref: str | None
    bill_rate: Money | None
    cost_rate: Money | None
    task: str | None = None
    notes: str | None = None
    modified_at: datetime | None = None


class Expense(Canonical):
    id: RecordId
    external_ref: str | None
    engagement_key: EngagementKey | None
    person_id: RecordId | None
    spent_date: date
    amount: Money
    category: str | None
    billable: bool
    approved: bool
    billed: bool
    notes: str | None = None
    modified_at: datetime | None = None


class InvoiceLine(Canonical):
    description: str
    item: str
    quantity: Decimal
    rate: Money
    amount: Money
    sources: tuple[str, ...] = ()


class Invoice(Canonical):
    id: RecordId
    external_id: str | None
    engagement_key: EngagementKey | None
    customer_id: RecordId | None
    tran_id: str | None
    tran_date: date
    due_date: date | None
    total: Money
    amount_remaining: Money
    status: InvoiceStatus
    lines: tuple[InvoiceLine, ...] = ()
    memo: str | None = None
    modified_at: datetime | None = None


class Payment(Canonical):
    id: RecordId
    external_id: str | None
    customer_id: RecordId | None
    engagement_key: EngagementKey | None
    tran_date: date
    amount: Money
    invoice_ids: tuple[RecordId, ...] = ()


class Ledger(Canonical):
    """Invoice headers and payments of some engagements, read together."""

    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()


class BillingScheduleLine(Canonical):
    date: date
    amount: Money | None
    description: str


class UninvoicedWork(Canonical):
    """Billable work recorded but not yet invoiced, per engagement (time-tracking report)."""

    engagement_key: EngagementKey
    hours: Decimal
    time_amount: Money
    expense_amount: Money


class BillingSchedule(Canonical):
    id: RecordId
    engagement_key: EngagementKey | None
    kind: BillingScheduleKind
    frequency: str
    lines: tuple[BillingScheduleLine, ...] = ()
