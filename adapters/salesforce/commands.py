"""Inputs of the Salesforce-only write `upsert_opportunity_by_engagement`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from domain.ids import RecordId
from domain.models import BillingModel

__all__ = ["OpportunityUpsert"]


class OpportunityUpsert(BaseModel):
    """Fields to set on the opportunity of an engagement; unset fields are left alone.

    The engagement key itself is the external id the upsert matches on, so it
    is not a field here. Creating a new opportunity needs `name`, `stage` and
    `close_date` (Salesforce answers REQUIRED_FIELD_MISSING otherwise).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    account_id: RecordId | None = None
    stage: str | None = None
    close_date: date | None = None
    amount: Decimal | None = None
    currency: str | None = None
    probability: int | None = None
    billing_model: BillingModel | None = None
    service_line: str | None = None
    legal_entity: str | None = None
    rate_card_version: str | None = None
    invoiced_amount: Decimal | None = None
