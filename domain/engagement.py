"""The engagement: the cross-system join, seen whole.

An engagement is identified by its ``engagementKey``, stored on every system's
record. Its commercial facts come from the CRM opportunity; its delivery
status from the PSA project. `Financials` are derived in workflows/ from the
canonical records of all four systems, each in the engagement's currency.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import BillingModel
from domain.money import Money

__all__ = ["Engagement", "EngagementStatus", "Financials"]


class EngagementStatus(StrEnum):
    QUALIFYING = "QUALIFYING"  # opportunity open
    WON = "WON"  # closed won, not yet activated (no delivery project)
    ACTIVE = "ACTIVE"  # delivery project running
    COMPLETED = "COMPLETED"  # delivery project completed or archived
    LOST = "LOST"  # closed lost


class Engagement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: EngagementKey
    name: str
    status: EngagementStatus | None  # None: a won deal whose PSA project could not be read
    billing_model: BillingModel | None
    service_line: str | None
    legal_entity: str | None
    rate_card_version: str | None
    currency: str | None
    booked_value: Money | None
    close_date: date | None
    customer_key: CustomerKey | None
    customer_name: str | None
    opportunity_id: RecordId
    project_id: RecordId | None


class Financials(BaseModel):
    """Money position of one engagement, all in the engagement's currency.

    - booked_value: the won deal's amount (CRM).
    - billed_to_date: total of posted invoices (ERP).
    - unbilled_wip: approved billable work not yet invoiced: uninvoiced billable
      time and expenses (time & materials), accepted milestones not yet billed
      (milestone; fixed fee with milestones), schedule amounts due but not yet
      billed (fixed fee, retainer, subscription).
    - approved_billable_value: billed_to_date + unbilled_wip.
    - collected: payments received (ERP).
    - outstanding: what invoices still have open (ERP amount remaining).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str
    booked_value: Money
    approved_billable_value: Money
    billed_to_date: Money
    unbilled_wip: Money
    collected: Money
    outstanding: Money
