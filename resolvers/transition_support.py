"""What every mutation resolver needs: the governance service, the caller, the key."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from domain.errors import DomainError
from resolvers.context import Info
from resolvers.errors import to_graphql_error
from workflows.governance import Governance
from workflows.transitions import Caller

__all__ = ["caller_of", "governance_of", "key_of", "run_transition"]

T = TypeVar("T")


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
