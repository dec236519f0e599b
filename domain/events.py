"""Canonical events: frozen, past-tense facts about an engagement.

Every state change the product governs is published as one of these on the
firm's event stream, in the same atomic commit as the change itself (the
journal is the outbox). An event's ``id`` is derived from what caused it
(the operation and step), never random, so a transition replayed after a
crash publishes the same id again: delivery is at-least-once and consumers
dedupe on ``id``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from domain.ids import EngagementKey

__all__ = [
    "EVENT_TYPES",
    "Event",
    "ExceptionRaised",
    "ExceptionResolved",
    "ExpenseApproved",
    "InvoiceGenerated",
    "InvoicePosted",
    "MilestoneAccepted",
    "OpportunityRejected",
    "OpportunityWon",
    "PaymentReceived",
    "ProjectActivated",
    "ResourceAssigned",
    "TimeApproved",
    "TimeRejected",
    "event_id",
    "parse_event",
]

_NAMESPACE = uuid.UUID("6f0c3b7e-2a51-4c1e-9d3a-8b7f00e1a5c2")


def event_id(*parts: str) -> str:
    """A stable event id from what caused the event (operation id, step, type)."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


class Event(BaseModel):
    """Envelope fields shared by every event; subclasses add the data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    version: ClassVar[int] = 1

    id: str
    subject: EngagementKey | None  # the engagement the event is about
    time: datetime
    correlation_id: str | None = None
    causation_id: str | None = None  # the operation (mutation, saga) that caused it
    actor: str | None = None

    def data(self) -> dict[str, Any]:
        """The event's own fields, as JSON-ready values."""
        envelope = set(Event.model_fields)
        return self.model_dump(mode="json", exclude=envelope)

    def to_record(self) -> dict[str, Any]:
        """The event as one JSON object: envelope plus ``type`` plus ``data``."""
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor,
            "data": self.data(),
        }


class OpportunityWon(Event):
    type: ClassVar[str] = "opportunity.won"
    opportunity_id: str
    customer_key: str | None
    billing_model: str | None
    amount: str | None  # Decimal as a string
    currency: str | None


class OpportunityRejected(Event):
    type: ClassVar[str] = "opportunity.rejected"
    opportunity_id: str
    failed_checks: list[str]


class ProjectActivated(Event):
    type: ClassVar[str] = "project.activated"
    opportunity_id: str | None
    erp_customer_id: str
    psa_project_id: str
    erp_project_id: str
    billing_schedule_id: str


class ResourceAssigned(Event):
    type: ClassVar[str] = "resource.assigned"
    assignment_id: str
    person_id: str
    role: str | None
    allocation_percent: int
    start_date: str
    end_date: str


class TimeApproved(Event):
    type: ClassVar[str] = "time.approved"
    time_entry_ids: list[str]
    hours: str


class TimeRejected(Event):
    type: ClassVar[str] = "time.rejected"
    time_entry_ids: list[str]
    reason: str


class ExpenseApproved(Event):
    type: ClassVar[str] = "expense.approved"
    expense_ids: list[str]


class MilestoneAccepted(Event):
    type: ClassVar[str] = "milestone.accepted"
    milestone_id: str
    amount: str | None
    currency: str | None


class InvoiceGenerated(Event):
    type: ClassVar[str] = "invoice.generated"
    draft_id: str
    period_end: str
    total: str
    currency: str


class InvoicePosted(Event):
    type: ClassVar[str] = "invoice.posted"
    draft_id: str
    invoice_id: str
    external_id: str
    total: str
    currency: str


class PaymentReceived(Event):
    type: ClassVar[str] = "payment.received"
    payment_id: str
    invoice_id: str
    amount: str
    currency: str


class ExceptionRaised(Event):
    type: ClassVar[str] = "exception.raised"
    exception_id: str
    code: str
    owner_role: str
    message: str


class ExceptionResolved(Event):
    type: ClassVar[str] = "exception.resolved"
    exception_id: str
    resolution: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        OpportunityWon,
        OpportunityRejected,
        ProjectActivated,
        ResourceAssigned,
        TimeApproved,
        TimeRejected,
        ExpenseApproved,
        MilestoneAccepted,
        InvoiceGenerated,
        InvoicePosted,
        PaymentReceived,
        ExceptionRaised,
        ExceptionResolved,
    )
}


def parse_event(record: dict[str, Any]) -> Event:
    """The event a `to_record()` object describes; unknown types raise ValueError."""
    cls = EVENT_TYPES.get(str(record.get("type")))
    if cls is None:
        raise ValueError(f"unknown event type {record.get('type')!r}")
    fields = {k: record[k] for k in ("id", "subject", "time", "correlation_id", "causation_id")}
    fields["actor"] = record.get("actor")
    return cls.model_validate({**fields, **record.get("data", {})})
