"""Inputs for the writes the ports perform. Each carries its idempotency key.

An idempotency key is derived, not random: (engagementKey, step) for saga
steps; the client's key for mutations. Adapters pass it to the vendor as an
external ID or an idempotency header, so a retried write never duplicates.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import BillingModel, BillingScheduleKind, BillingScheduleLine, InvoiceLine
from domain.money import Money

__all__ = [
    "AssignmentCreate",
    "BillingScheduleCreate",
    "CustomerUpsert",
    "ErpProjectCreate",
    "InvoiceMarking",
    "InvoicePost",
    "MilestoneCreate",
    "OpportunityUpdate",
    "PaymentRecord",
    "ProjectCreate",
]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerUpsert(Command):
    """Create or update the ERP customer identified by its master key (externalId)."""

    key: CustomerKey
    name: str
    subsidiary_id: RecordId
    currency_id: RecordId | None = None
    email: str | None = None
    tax_jurisdiction: str | None = None


class ProjectCreate(Command):
    """Create the PSA project for an engagement from a service-line template."""

    engagement_key: EngagementKey
    name: str
    template: str
    start_date: date
    end_date: date
    budget: Money | None = None


class ErpProjectCreate(Command):
    """Create the ERP project (job) with its financial dimensions."""

    engagement_key: EngagementKey
    name: str
    customer_id: RecordId
    subsidiary_id: RecordId
    department_id: RecordId | None = None
    class_id: RecordId | None = None
    location_id: RecordId | None = None
    start_date: date
    end_date: date
    billing_model: BillingModel
    rate_card_version: str | None = None
    not_to_exceed: Money | None = None
    idempotency_key: str


class BillingScheduleCreate(Command):
    engagement_key: EngagementKey
    erp_project_id: RecordId
    kind: BillingScheduleKind
    frequency: str
    lines: tuple[BillingScheduleLine, ...] = ()
    idempotency_key: str


class InvoicePost(Command):
    """Post an invoice to the ERP; `external_id` makes it unique there."""

    external_id: str
    engagement_key: EngagementKey
    customer_id: RecordId
    subsidiary_id: RecordId
    currency: str
    tran_date: date
    due_date: date
    lines: tuple[InvoiceLine, ...]
    memo: str | None = None
    erp_project_id: RecordId | None = None
    idempotency_key: str


class PaymentRecord(Command):
    external_id: str
    customer_id: RecordId
    invoice_id: RecordId
    tran_date: date
    amount: Money
    idempotency_key: str


class OpportunityUpdate(Command):
    """Fields of a CRM opportunity the product may change."""

    stage: str | None = None
    invoiced_amount: Decimal | None = None
    amount: Decimal | None = None


class AssignmentCreate(Command):
    """Staff a person on an engagement's PSA project for a date range.

    `idempotency_key` (e.g. ``(engagementKey, "assign", person)``, or a firm
    assignment key such as ``AS-00001``) names the allocation: a replay with
    the same key finds the allocation made before and creates nothing.
    """

    engagement_key: EngagementKey
    person_id: RecordId  # the PSA's user id
    role: str
    allocation_percent: int = Field(ge=1, le=100)
    start_date: date
    end_date: date
    idempotency_key: str = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _ordered(self) -> AssignmentCreate:
        if self.end_date < self.start_date:
            raise ValueError("end_date must be on or after start_date")
        return self


class MilestoneCreate(Command):
    """Create a billable milestone on an engagement's PSA project.

    `external_ref` is the milestone's natural key (``MS-00001``); it is also
    the idempotency key: a replay finds the milestone carrying it.
    """

    engagement_key: EngagementKey
    external_ref: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1)
    due_date: date
    amount: Money | None = None
    billable: bool = True


class InvoiceMarking(Command):
    """Mark an engagement's approved, billable, unbilled time and expenses of
    [date_from, date_to] as invoiced under `number` in the time-tracking system.

    `number` (the ERP invoice's externalId, e.g. ``INV-ENG-2026-00042-2026-10``)
    is the idempotency key: marking twice with one number marks once.
    """

    engagement_key: EngagementKey
    number: str = Field(min_length=1, max_length=100)
    date_from: date
    date_to: date
    issue_date: date

    @model_validator(mode="after")
    def _ordered(self) -> InvoiceMarking:
        if self.date_to < self.date_from:
            raise ValueError("date_to must be on or after date_from")
        return self
