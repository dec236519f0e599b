"""Inbound change sync: what it reads from each system, and what it keeps in the store.

Changes made directly in a vendor system reach the gateway by polling each system's
change feed ("records modified after a watermark", in the vendor's own clock:
SystemModstamp, ``updated_at``, ``lastModifiedDate``) and, where the vendor pushes,
by webhooks naming records to read back. Both end in the same place: the record as
it is now, with its version (its modification stamp), turned into the facts it shows
(`domain.events.Event.facts`). The ports below are what the adapters add for it;
`SyncStore` keeps the watermarks, the versions handled, and publishes events only for
facts nobody announced yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from domain.events import Event
from domain.ids import EngagementKey, RecordId
from domain.models import Milestone, Opportunity, TimeEntry
from domain.money import Money

__all__ = [
    "AppliedPayment",
    "MilestoneChanges",
    "OpportunityChanges",
    "PaymentApplication",
    "PaymentChanges",
    "SyncStore",
    "TimeEntryChanges",
]


class PaymentApplication(BaseModel):
    """Part of a payment applied to one invoice, with the invoice's engagement."""

    model_config = ConfigDict(frozen=True)

    invoice_id: RecordId
    engagement_key: EngagementKey | None
    amount: Money


class AppliedPayment(BaseModel):
    """A customer payment as the ERP holds it now: its version and where it was applied."""

    model_config = ConfigDict(frozen=True)

    id: RecordId
    customer_id: RecordId | None
    modified_at: datetime
    applications: tuple[PaymentApplication, ...] = ()


@runtime_checkable
class OpportunityChanges(Protocol):
    async def opportunities_changed_since(
        self, since: datetime | None, *, won_only: bool = False
    ) -> list[Opportunity]:
        """Opportunities modified after `since` (SystemModstamp; all when None), oldest
        modification first, only won ones if `won_only`; ``modified_at`` is SystemModstamp."""
        ...

    async def get_opportunities(self, ids: Sequence[RecordId]) -> list[Opportunity]: ...


@runtime_checkable
class TimeEntryChanges(Protocol):
    async def time_entries_changed_since(self, since: datetime) -> list[TimeEntry]:
        """Time entries modified at or after `since` (``updated_since``), any order."""
        ...

    async def get_time_entries(self, ids: Sequence[RecordId]) -> list[TimeEntry]: ...


@runtime_checkable
class MilestoneChanges(Protocol):
    async def milestones_changed_since(self, since: datetime | None) -> list[Milestone]:
        """Milestones modified after `since` (all when None), oldest modification first,
        with their engagement keys."""
        ...

    async def get_milestones_by_id(self, ids: Sequence[RecordId]) -> list[Milestone]: ...


@runtime_checkable
class PaymentChanges(Protocol):
    async def payments_changed_since(self, since: datetime | None) -> list[AppliedPayment]:
        """Customer payments modified after `since` (all when None), oldest first."""
        ...

    async def get_applied_payments(self, ids: Sequence[RecordId]) -> list[AppliedPayment]: ...

    async def payments_applied_to(self, invoice_ids: Sequence[RecordId]) -> list[AppliedPayment]:
        """The payments applied to any of the invoices."""
        ...


class SyncStore(Protocol):
    async def watermark(self, feed: str) -> datetime | None:
        """Where the feed's next poll starts (minus the overlap); None before its first start."""
        ...

    async def begin(self, feed: str, watermark: datetime, history: Sequence[str]) -> datetime:
        """First start: mark the `history` facts (what the vendor held before our time) and
        set the watermark, unless another process did first; returns the one in force."""
        ...

    async def advance(self, feed: str, watermark: datetime) -> None:
        """Move the watermark forward to `watermark` (never back)."""
        ...

    async def versions(self, feed: str, record_ids: Sequence[str]) -> dict[str, datetime]:
        """The version last handled of each record (those handled lately)."""
        ...

    async def remember(
        self, feed: str, versions: Mapping[str, datetime], *, forget_before: datetime | None
    ) -> None:
        """Record the versions handled; forget those older than `forget_before`."""
        ...

    async def marks(self, names: Sequence[str]) -> dict[str, str]:
        """Fact -> its mark (the announcing event's id, or history), for the marked ones."""
        ...

    async def publish_unmarked(self, events: Sequence[Event]) -> list[Event]:
        """Atomically publish each event none of whose facts is marked, marking them; return
        those published (the others lost a race to another path, or announce history)."""
        ...
