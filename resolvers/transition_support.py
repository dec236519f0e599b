"""What every mutation resolver needs: the governance service, the caller, the key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from domain.errors import DomainError
from domain.operations import Operation, OperationStatus
from resolvers.context import Info
from resolvers.errors import to_graphql_error
from resolvers.types.governance import (
    BusinessRejection,
    DeadLettered,
    TransitionPending,
    rejection_or_pending,
)
from workflows.governance import Governance
from workflows.transitions import Caller

__all__ = ["caller_of", "governance_of", "key_of", "outcome", "run_transition"]

T = TypeVar("T")

Failure = BusinessRejection | DeadLettered | TransitionPending


def outcome(op: Operation, success: Callable[[strawberry.ID, dict[str, Any]], T]) -> T | Failure:
    """The mutation's typed result: `success` built from the operation's result, or why not."""
    if op.status is not OperationStatus.SUCCEEDED:
        return rejection_or_pending(op)
    return success(strawberry.ID(op.id), op.result or {})


def governance_of(info: Info) -> Governance:
    governance = info.context.governance
    if governance is None:  # pragma: no cover - create_app always wires it
        raise RuntimeError("governed transitions are not configured")
    return governance


def caller_of(info: Info) -> Caller:
    return Caller(principal=info.context.principal, correlation_id=info.context.correlation_id)


def key_of(info: Info, argument: str | None) -> str | None:
    return argument or info.context.idempotency_key


async def run_transition(info: Info, call: Awaitable[T]) -> T:
    try:
        return await call
    except DomainError as exc:
        raise to_graphql_error(exc, info) from exc
