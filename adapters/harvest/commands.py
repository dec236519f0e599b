"""Input for the one Harvest create the adapter offers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from domain.ids import EngagementKey, RecordId

__all__ = ["TimeEntryCreate"]


class TimeEntryCreate(BaseModel):
    """Log time on an engagement's Harvest project.

    `external_ref` (e.g. the PSA's ``TE-000123``) is the idempotency key:
    Harvest has none, so the adapter looks the reference up before posting
    and a replay returns the entry already there.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    external_ref: str
    engagement_key: EngagementKey
    spent_date: date
    hours: Decimal
    task: str
    person_id: RecordId | None = None  # Harvest user id; None = the token's owner
    notes: str | None = None
