"""Canonical events: frozen, past-tense facts about an engagement.

Every state change the product governs is published as one of these on the
firm's event stream, in the same atomic commit as the change itself (the
journal is the outbox). An event's ``id`` is derived from what caused it
(the operation and step), never random, so a transition replayed after a
crash publishes the same id again: delivery is at-least-once and consumers
dedupe on ``id``.

Some events announce an occurrence in a vendor system that the gateway can
learn of along several paths: a transition it runs itself, the inbound sync
polling the vendor, a webhook. `Event.facts` names those occurrences
(``time.approved:<entry id>``); the store marks each fact when it publishes an
event announcing it, so whichever path comes first announces it and the
others publish nothing for it (see adapters/store/facts.py).
"""

from __future__ import annotations

import inspect
import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from domain.ids import EngagementKey

__all__ = [
    "EVENT_TYPES",
    "SCHEMA_ROOT",
    "SOURCE",
    "Event",
    "ExceptionRaised",
    "ExceptionResolved",
    "ExpenseApproved",
    "InvoiceGenerated",
    "InvoicePosted",
    "MilestoneAccepted",
    "MilestoneCompleted",
    "OpportunityRejected",
    "OpportunityWon",
    "PaymentReceived",
    "ProjectActivated",
    "ResourceAssigned",
    "TimeApproved",
    "TimeRejected",
    "crm_fact_id",
    "event_id",
    "event_schema",
    "parse_event",
]

_NAMESPACE = uuid.UUID("6f0c3b7e-2a51-4c1e-9d3a-8b7f00e1a5c2")

SOURCE = "/engagement-gateway"  # the CloudEvents source: this product
SCHEMA_ROOT = "/schemas/events"  # dataschema URI-references: schemas/events/<type>.v<n>.json


def event_id(*parts: str) -> str:
    """A stable event id from what caused the event (operation id, step, type)."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def crm_fact_id(record_id: str) -> str:
    """A CRM (Salesforce) id in the one form facts use: the 15-character case-sensitive id,
    which is the first 15 characters of its 18-character case-safe form."""
    return record_id[:15] if len(record_id) == 18 else record_id


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

    def facts(self) -> tuple[str, ...]:
        """The vendor occurrences this event announces, each to be announced once whichever
        path saw it (``<type>:<record id>``); none for events only the gateway causes."""
        return ()

    def data(self) -> dict[str, Any]:
        """The event's own fields, as JSON-ready values."""
        envelope = set(Event.model_fields)
        return self.model_dump(mode="json", exclude=envelope)

    @classmethod
    def dataschema(cls) -> str:
        """Where the JSON Schema of this type and version lives (schemas/events/)."""
        return f"{SCHEMA_ROOT}/{cls.type}.v{cls.version}.json"

    def to_record(self) -> dict[str, Any]:
        """The event as a CloudEvents 1.0 structured-mode JSON object.

        ``subject`` is the engagement key; ``correlationid``, ``causationid`` and
        ``actor`` are extension attributes, left out when they have no value (the
        spec's rule for absent attributes), as is ``subject``.
        """
        record: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "source": SOURCE,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": "application/json",
            "dataschema": self.dataschema(),
            "correlationid": self.correlation_id,
            "causationid": self.causation_id,
            "actor": self.actor,
            "data": self.data(),
        }
        return {k: v for k, v in record.items() if v is not None}


class OpportunityWon(Event):
    type: ClassVar[str] = "opportunity.won"
    opportunity_id: str
    customer_key: str | None
    billing_model: str | None
    amount: str | None  # Decimal as a string
    currency: str | None

    def facts(self) -> tuple[str, ...]:
        return (f"{self.type}:{crm_fact_id(self.opportunity_id)}",)


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

    def facts(self) -> tuple[str, ...]:
        return tuple(f"{self.type}:{entry}" for entry in self.time_entry_ids)


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

    def facts(self) -> tuple[str, ...]:
        return (f"{self.type}:{self.milestone_id}",)


class MilestoneCompleted(Event):
    """A milestone the PSA shows completed: the delivery is done, the customer has not
    accepted it yet (acceptance is ``milestone.accepted``, what makes it billable)."""

    type: ClassVar[str] = "milestone.completed"
    milestone_id: str
    amount: str | None
    currency: str | None

    def facts(self) -> tuple[str, ...]:
        return (f"{self.type}:{self.milestone_id}",)


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

    def facts(self) -> tuple[str, ...]:
        """One fact per application: a payment applied to two invoices is two receipts."""
        return (f"{self.type}:{self.payment_id}:{self.invoice_id}",)


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
        MilestoneCompleted,
        InvoiceGenerated,
        InvoicePosted,
        PaymentReceived,
        ExceptionRaised,
        ExceptionResolved,
    )
}


def parse_event(record: dict[str, Any]) -> Event:
    """The event a `to_record()` CloudEvent describes; unknown types raise ValueError."""
    cls = EVENT_TYPES.get(str(record.get("type")))
    if cls is None:
        raise ValueError(f"unknown event type {record.get('type')!r}")
    return cls.model_validate(
        {
            "id": record["id"],
            "subject": record.get("subject"),
            "time": record["time"],
            "correlation_id": record.get("correlationid"),
            "causation_id": record.get("causationid"),
            "actor": record.get("actor"),
            **record.get("data", {}),
        }
    )


def event_schema(cls: type[Event]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one event type and version, as a CloudEvent."""
    envelope = set(Event.model_fields)
    full = cls.model_json_schema(mode="serialization")
    data = {
        "type": "object",
        "properties": {k: v for k, v in full["properties"].items() if k not in envelope},
        "required": [k for k in full.get("required", []) if k not in envelope],
        "additionalProperties": False,
    }
    optional_text = {"type": "string", "minLength": 1}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": cls.dataschema(),
        "title": f"{cls.type} v{cls.version}",
        "description": inspect.cleandoc(cls.__doc__ or f"The {cls.type} event."),
        "type": "object",
        "required": [
            "specversion", "id", "source", "type", "time", "datacontenttype", "dataschema",
            "data",
        ],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "minLength": 1},
            "source": {"const": SOURCE},
            "type": {"const": cls.type},
            "subject": {"type": "string", "pattern": "^ENG-\\d{4}-\\d{5}$"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "dataschema": {"const": cls.dataschema()},
            "correlationid": optional_text,
            "causationid": optional_text,
            "actor": optional_text,
            "data": data,
        },
        "additionalProperties": False,
        **({"$defs": full["$defs"]} if "$defs" in full else {}),
    }  # fmt: skip
