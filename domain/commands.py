"""Inputs for the writes the ports perform. Each carries its idempotency key.

An idempotency key is derived, not random: (engagementKey, step) for saga
steps; the client's key for mutations. Adapters pass it to the vendor as an
external ID or an idempotency header, so a retried write never duplicates.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import BillingModel, BillingScheduleKind, BillingScheduleLine, InvoiceLine
from domain.money import Money

__all__ = [
    "BillingScheduleCreate",
    "CustomerUpsert",
    "ErpProjectCreate",
    "InvoicePost",
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
