"""What an operation that did not succeed leaves behind: a rejection or a dead letter.

Both are committed in one write with the operation's final status, so there is
never a failed operation without its record: a REJECTED one has a business
exception for the owner role (and ``exception.raised``); a DEAD_LETTERED one
has a dead letter with the input, the step, the error and the system, and, for
a step that leaves the business in a state someone must know about
(`Step.exception_on_failure`), a business exception too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import AdapterError, BusinessRuleViolation, UpstreamRejected
from domain.events import ExceptionRaised, event_id
from domain.governance import AuditEntry, BusinessException, DeadLetter, Role
from domain.operations import Commit, Operation
from workflows.journal_context import StepContext
from workflows.operation_steps import Step

__all__ = [
    "business_exception",
    "dead_letter",
    "describe",
    "raised_event",
    "rejection",
    "retryable",
]


def retryable(exc: BaseException) -> bool:
    """Vendor refusals (4xx) are not retried; they wait in the dead-letter queue for a fix."""
    if isinstance(exc, UpstreamRejected):
        return False
    return isinstance(exc, AdapterError | OSError | TimeoutError)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def business_exception(
    operation: Operation,
    violation: BusinessRuleViolation,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> BusinessException:
    return BusinessException(
        id=event_id(operation.id, "exception", violation.code),
        code=violation.code,
        message=str(violation),
        owner_role=Role(violation.owner_role),
        engagement_key=operation.engagement_key,
        raised_at=now,
        correlation_id=operation.correlation_id,
        context={"operation": operation.kind, "operation_id": operation.id, **(details or {})},
    )


def raised_event(
    operation: Operation, step: str, exception: BusinessException, now: datetime, *id_parts: str
) -> ExceptionRaised:
    return ExceptionRaised(
        id=event_id(operation.id, step, ExceptionRaised.type, *id_parts),
        subject=operation.engagement_key,
        time=now,
        correlation_id=operation.correlation_id,
        causation_id=operation.id,
        actor=operation.actor,
        exception_id=exception.id,
        code=exception.code,
        owner_role=exception.owner_role,
        message=exception.message,
    )


def _audit(operation: Operation, step: str, now: datetime, outcome: str) -> AuditEntry:
    return AuditEntry(
        at=now,
        actor=operation.actor,
        role=operation.role,
        action=f"{operation.kind}.{step}",
        engagement_key=operation.engagement_key,
        correlation_id=operation.correlation_id,
        operation_id=operation.id,
        outcome=outcome,
    )


def rejection(
    operation: Operation,
    step: str,
    violation: BusinessRuleViolation,
    context: StepContext,
    now: datetime,
) -> tuple[Commit, dict[str, Any]]:
    """The effects and result of an operation a business rule stopped at `step`."""
    exception = business_exception(operation, violation, now, context.details)
    extra = context.rejection_commit
    commit = Commit(
        events=(*extra.events, raised_event(operation, step, exception, now)),
        audit=(*extra.audit, _audit(operation, step, now, f"rejected: {violation.code}")),
        exceptions=(*extra.exceptions, exception),
    )
    result = {
        "rejected": True,
        "code": violation.code,
        "message": str(violation),
        "owner_role": violation.owner_role,
        "exception_id": exception.id,
        **context.details,
    }
    return commit, result


def dead_letter(
    current: Operation, step: Step, attempts: int, exc: BaseException | None, now: datetime
) -> tuple[Commit, dict[str, Any]]:
    """The effects and result of an operation whose `step` outlasted its attempts."""
    record = current.steps.get(step.name)
    error = describe(exc) if exc else (record.error if record else None) or "attempts exhausted"
    raises = step.exception_on_failure
    letter = DeadLetter(
        id=event_id(current.id, step.name, "dead-letter", str(attempts), now.isoformat()),
        operation=current.kind,
        operation_id=current.id,
        step=step.name,
        engagement_key=current.engagement_key,
        error=error,
        error_type=type(exc).__name__ if exc else "AttemptsExhausted",
        system=getattr(exc, "system", None),
        attempts=attempts,
        failed_at=now,
        correlation_id=current.correlation_id,
        actor=current.actor,
        context={
            "input": current.input,
            "completed_steps": sorted(n for n in current.steps if current.done(n)),
            # what a successful replay closes (the id business_exception derives below)
            "raised_exception_ids": [event_id(current.id, "exception", raises[0])]
            if raises
            else [],
        },
    )
    exceptions: tuple[BusinessException, ...] = ()
    events: tuple[ExceptionRaised, ...] = ()
    if raises is not None:
        code, role, message = raises
        violation = BusinessRuleViolation(
            f"{message} ({letter.error}); replay dead letter {letter.id} once fixed",
            owner_role=role,
            code=code,
        )
        raised = business_exception(current, violation, now, {"dead_letter_id": letter.id})
        exceptions = (raised,)
        events = (raised_event(current, step.name, raised, now, letter.id),)
    commit = Commit(
        events=events,
        audit=(_audit(current, step.name, now, f"dead-lettered: {letter.error}"),),
        exceptions=exceptions,
        dead_letters=(letter,),
    )
    return commit, {"dead_letter_id": letter.id, "step": step.name, "error": letter.error}
