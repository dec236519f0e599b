"""What a step of a journaled operation sees while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from domain.events import Event, ExceptionRaised, event_id
from domain.governance import AuditEntry, BusinessException, Role
from domain.ids import EngagementKey
from domain.operations import NO_EFFECTS, Commit, Operation

__all__ = ["StepContext"]

E = TypeVar("E", bound=Event)


@dataclass(slots=True)
class StepContext:
    operation: Operation
    step: str
    now: datetime
    details: dict[str, Any] = field(default_factory=dict)  # added to a rejection's result
    rejection_commit: Commit = NO_EFFECTS  # extra effects committed if the step rejects

    def event(self, cls: type[E], *, subject: str | None = None, **data: Any) -> E:
        """An event caused by this step, with a stable id (operation, step, type, subject)."""
        operation = self.operation
        about = subject or operation.engagement_key
        return cls(
            id=event_id(operation.id, self.step, cls.type, about or ""),
            subject=about,
            time=self.now,
            correlation_id=operation.correlation_id,
            causation_id=operation.id,
            actor=operation.actor,
            **data,
        )

    def audit(
        self,
        engagement_key: str | None,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """An audit entry of this step for one engagement it touched (a transition over
        records of several engagements writes one per engagement, so each trail has it)."""
        operation = self.operation
        return AuditEntry(
            at=self.now,
            actor=operation.actor,
            role=operation.role,
            action=f"{operation.kind}.{self.step}",
            engagement_key=EngagementKey(engagement_key) if engagement_key else None,
            correlation_id=operation.correlation_id,
            operation_id=operation.id,
            before=before,
            after=after,
        )

    def business_exception(
        self, code: str, message: str, owner_role: Role, **details: Any
    ) -> tuple[BusinessException, ExceptionRaised]:
        """A business exception this step raises (without stopping the operation) and the
        event announcing it, to commit with the step; one per (operation, code)."""
        operation = self.operation
        exception = BusinessException(
            id=event_id(operation.id, "exception", code),
            code=code,
            message=message,
            owner_role=owner_role,
            engagement_key=operation.engagement_key,
            raised_at=self.now,
            correlation_id=operation.correlation_id,
            context={"operation": operation.kind, "operation_id": operation.id, **details},
        )
        event = ExceptionRaised(
            id=event_id(operation.id, self.step, ExceptionRaised.type, exception.id),
            subject=operation.engagement_key,
            time=self.now,
            correlation_id=operation.correlation_id,
            causation_id=operation.id,
            actor=operation.actor,
            exception_id=exception.id,
            code=code,
            owner_role=owner_role,
            message=message,
        )
        return exception, event

    def output(self, step: str) -> dict[str, Any]:
        """What an earlier step of the operation committed."""
        return self.operation.output(step)
