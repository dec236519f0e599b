"""GraphQL types of governed transitions: checks, typed outcomes, trails and queues.

Expected outcomes of a mutation are members of its result union: the success
type, `PolicyRejected` / `BusinessRejection` (a business rule refused it and an
exception went to the owner role), `DeadLettered` (a technical failure
outlasted its retries; an operator can replay it) or `TransitionPending` (the
operation is still running elsewhere; ask `operation(id)` later).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from domain.governance import AuditEntry as DomainAudit
from domain.governance import BusinessException as DomainException
from domain.governance import CheckOutcome, DeadLetterStatus, ExceptionStatus, Role
from domain.governance import DeadLetter as DomainDeadLetter
from domain.operations import Operation as DomainOperation
from domain.operations import OperationStatus

__all__ = [
    "AuditEntry",
    "BusinessException",
    "BusinessRejection",
    "DeadLetter",
    "DeadLettered",
    "Operation",
    "PolicyCheck",
    "PolicyRejected",
    "TransitionPending",
    "WinReadiness",
    "rejection_or_pending",
]

for _enum in (Role, DeadLetterStatus, ExceptionStatus, OperationStatus):
    strawberry.enum(_enum)


def _json(value: dict[str, Any] | None) -> JSON:
    return cast(JSON, value)


@strawberry.type(description="One pre-win policy check.")
class PolicyCheck:
    name: str
    passed: bool
    reason: str
    owner_role: Role = strawberry.field(description="The role that must fix a failure.")

    @classmethod
    def from_model(cls, check: CheckOutcome) -> PolicyCheck:
        return cls(
            name=check.name, passed=check.passed, reason=check.reason, owner_role=check.owner_role
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PolicyCheck:
        return cls.from_model(CheckOutcome.model_validate(data))


@strawberry.type(description="The seven pre-win checks of an opportunity (no side effects).")
class WinReadiness:
    opportunity_id: strawberry.ID
    engagement_key: str | None
    ready: bool
    checks: list[PolicyCheck]


@strawberry.type(description="Policy checks failed; the deal stays open.")
class PolicyRejected:
    operation_id: strawberry.ID
    opportunity_id: strawberry.ID
    failures: list[PolicyCheck]
    exception_ids: list[str] = strawberry.field(
        description="One business exception per failed check, routed to its owner role."
    )


@strawberry.type(description="A business rule refused the transition; nothing changed.")
class BusinessRejection:
    operation_id: strawberry.ID
    code: str
    message: str
    owner_role: Role
    exception_id: str | None


@strawberry.type(description="A technical failure outlasted its retries; replay it when fixed.")
class DeadLettered:
    operation_id: strawberry.ID
    dead_letter_id: str
    step: str | None
    error: str


@strawberry.type(description="The operation is still running (elsewhere); query it later.")
class TransitionPending:
    operation_id: strawberry.ID
    status: OperationStatus


def rejection_or_pending(
    operation: DomainOperation,
) -> BusinessRejection | DeadLettered | TransitionPending:
    """The outcome of an operation that did not succeed, as its typed result."""
    result = operation.result or {}
    if operation.status is OperationStatus.REJECTED:
        return BusinessRejection(
            operation_id=strawberry.ID(operation.id),
            code=str(result.get("code", "REJECTED")),
            message=str(result.get("message", "refused by a business rule")),
            owner_role=Role(str(result.get("owner_role", Role.ADMIN))),
            exception_id=result.get("exception_id"),
        )
    if operation.status in (OperationStatus.DEAD_LETTERED, OperationStatus.DISCARDED):
        return DeadLettered(
            operation_id=strawberry.ID(operation.id),
            dead_letter_id=str(result.get("dead_letter_id", "")),
            step=result.get("step"),
            error=str(result.get("error", operation.status.value)),
        )
    return TransitionPending(operation_id=strawberry.ID(operation.id), status=operation.status)


@strawberry.type(description="A journaled operation (a transition or a saga) and its steps.")
class Operation:
    id: strawberry.ID
    kind: str
    engagement_key: str | None
    status: OperationStatus
    actor: str
    created_at: datetime
    result: JSON | None
    completed_steps: list[str]

    @classmethod
    def from_model(cls, op: DomainOperation) -> Operation:
        return cls(
            id=strawberry.ID(op.id),
            kind=op.kind,
            engagement_key=op.engagement_key,
            status=op.status,
            actor=op.actor,
            created_at=op.created_at,
            result=_json(op.result),
            completed_steps=[name for name in op.steps if op.done(name)],
        )


@strawberry.type(description="One line of the append-only audit trail.")
class AuditEntry:
    id: str | None
    at: datetime
    actor: str
    role: str | None
    action: str
    engagement_key: str | None
    correlation_id: str | None
    operation_id: str | None
    outcome: str
    before: JSON | None
    after: JSON | None

    @classmethod
    def from_model(cls, a: DomainAudit) -> AuditEntry:
        return cls(
            id=a.id, at=a.at, actor=a.actor, role=a.role, action=a.action,
            engagement_key=a.engagement_key, correlation_id=a.correlation_id,
            operation_id=a.operation_id, outcome=a.outcome, before=_json(a.before),
            after=_json(a.after),
        )  # fmt: skip


@strawberry.type(description="A technical failure kept with its context, ready to replay.")
class DeadLetter:
    id: strawberry.ID
    operation: str
    operation_id: str
    step: str | None
    engagement_key: str | None
    error: str
    error_type: str
    system: str | None
    attempts: int
    failed_at: datetime
    correlation_id: str | None
    status: DeadLetterStatus
    replays: int
    note: str | None
    context: JSON

    @classmethod
    def from_model(cls, d: DomainDeadLetter) -> DeadLetter:
        return cls(
            id=strawberry.ID(d.id), operation=d.operation, operation_id=d.operation_id,
            step=d.step, engagement_key=d.engagement_key, error=d.error,
            error_type=d.error_type, system=d.system, attempts=d.attempts,
            failed_at=d.failed_at, correlation_id=d.correlation_id, status=d.status,
            replays=d.replays, note=d.note, context=_json(d.context),
        )  # fmt: skip


@strawberry.type(description="A business exception routed to the role that must act.")
class BusinessException:
    id: strawberry.ID
    code: str
    message: str
    owner_role: Role
    engagement_key: str | None
    raised_at: datetime
    status: ExceptionStatus
    resolution: str | None
    context: JSON

    @classmethod
    def from_model(cls, e: DomainException) -> BusinessException:
        return cls(
            id=strawberry.ID(e.id), code=e.code, message=e.message, owner_role=e.owner_role,
            engagement_key=e.engagement_key, raised_at=e.raised_at, status=e.status,
            resolution=e.resolution, context=_json(e.context),
        )  # fmt: skip
