"""Journaled operations: the unit every governed transition and saga runs as.

An `Operation` is written to the journal before anything happens. Each of its
steps is recorded before it runs (``attempts``) and committed after it runs,
together with the events, audit entries and business exceptions the step
produced, in one atomic write: the journal is the outbox. A gateway that dies
mid-operation finds the operation incomplete on start and resumes it at the
first step not committed; every step is idempotent towards its system, so a
step that ran but was not committed runs again without duplicating anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.events import Event
from domain.governance import AuditEntry, BusinessException, DeadLetter
from domain.ids import EngagementKey

__all__ = [
    "NO_EFFECTS",
    "Commit",
    "Operation",
    "OperationStatus",
    "StepRecord",
    "StepStatus",
]


class OperationStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    REJECTED = "REJECTED"  # a business rule stopped it; an exception names the owner role
    DEAD_LETTERED = "DEAD_LETTERED"  # a technical failure outlasted its retries
    DISCARDED = "DISCARDED"  # an operator discarded its dead letter (compensated if defined)

    @property
    def finished(self) -> bool:
        return self is not OperationStatus.RUNNING and self is not OperationStatus.DEAD_LETTERED


class StepStatus(StrEnum):
    STARTED = "STARTED"
    FAILED = "FAILED"  # the last attempt failed; it will be retried or dead-lettered
    DONE = "DONE"
    COMPENSATED = "COMPENSATED"


class StepRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    status: StepStatus
    attempts: int = 0
    output: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    updated_at: datetime


class Operation(BaseModel):
    """One governed transition or saga, as journaled."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str  # "activation", "postInvoice", "approveTimeEntries", ...
    engagement_key: EngagementKey | None
    input: dict[str, Any]
    fingerprint: str  # hash of (kind, input): same idempotency key, other input -> refused
    actor: str
    role: str | None
    correlation_id: str | None
    created_at: datetime
    status: OperationStatus = OperationStatus.RUNNING
    result: dict[str, Any] | None = None
    steps: dict[str, StepRecord] = Field(default_factory=dict)

    def done(self, step: str) -> bool:
        record = self.steps.get(step)
        return record is not None and record.status is StepStatus.DONE

    def output(self, step: str) -> dict[str, Any]:
        record = self.steps.get(step)
        return dict(record.output) if record is not None else {}


@dataclass(frozen=True, slots=True)
class Commit:
    """What one step commits atomically with its completion (the outbox)."""

    events: tuple[Event, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    exceptions: tuple[BusinessException, ...] = ()
    dead_letters: tuple[DeadLetter, ...] = ()
    claims: tuple[str, ...] = ()  # billing inputs marked billed by `claim_owner`
    claim_owner: str | None = None
    release_claims: tuple[str, ...] = ()  # claims of `claim_owner` given back
    records: dict[str, str] = field(default_factory=dict)  # named JSON documents (drafts)


NO_EFFECTS = Commit()
