"""Domain errors → GraphQL errors, once, here.

A field whose system failed resolves to null and adds an error carrying
``extensions {code, system, correlationId}`` so clients can tell which system
is missing. Codes: UPSTREAM_UNAVAILABLE (timeout, 5xx, throttled, breaker
open), UPSTREAM_REJECTED (the system refused the request), NOT_FOUND,
BAD_USER_INPUT (our own validation: cursors, page sizes, ids, illegal transitions),
FORBIDDEN (the caller lacks a role the transition needs), IDEMPOTENCY_CONFLICT (a key
reused with another input).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from graphql import GraphQLError

from domain.errors import (
    AdapterError,
    DomainError,
    InvalidInput,
    NotFound,
    UpstreamUnavailable,
)
from domain.money import CurrencyMismatch
from resolvers.context import Info
from workflows.transitions import Forbidden, IdempotencyConflict

__all__ = ["bad_input", "checked", "guarded", "not_found", "to_graphql_error"]

T = TypeVar("T")
P = ParamSpec("P")


def _code(exc: DomainError) -> str:
    if isinstance(exc, Forbidden):
        return "FORBIDDEN"
    if isinstance(exc, IdempotencyConflict):
        return "IDEMPOTENCY_CONFLICT"
    if isinstance(exc, NotFound):
        return "NOT_FOUND"
    if isinstance(exc, InvalidInput):
        return "BAD_USER_INPUT"
    if isinstance(exc, UpstreamUnavailable):
        return "UPSTREAM_UNAVAILABLE"
    if isinstance(exc, AdapterError):
        return "UPSTREAM_REJECTED"
    return "BUSINESS_RULE"


def to_graphql_error(exc: DomainError, info: Info) -> GraphQLError:
    extensions: dict[str, object] = {
        "code": _code(exc),
        "correlationId": info.context.correlation_id,
    }
    if isinstance(exc, AdapterError):
        extensions["system"] = exc.system
    return GraphQLError(str(exc), extensions=extensions, original_error=exc)


def not_found(what: str, info: Info) -> GraphQLError:
    return GraphQLError(
        what, extensions={"code": "NOT_FOUND", "correlationId": info.context.correlation_id}
    )


def bad_input(message: str, info: Info) -> GraphQLError:
    return to_graphql_error(InvalidInput(message), info)


def _mismatch(exc: CurrencyMismatch, info: Info) -> GraphQLError:
    return GraphQLError(
        f"records in different currencies: {exc}",
        extensions={"code": "CURRENCY_MISMATCH", "correlationId": info.context.correlation_id},
        original_error=exc,
    )


def checked(info: Info, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call `fn`; a domain error becomes this field's GraphQL error."""
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        raise to_graphql_error(exc, info) from exc
    except CurrencyMismatch as exc:
        raise _mismatch(exc, info) from exc


async def guarded(info: Info, work: Awaitable[T]) -> T:
    """Await `work`; a domain error becomes this field's GraphQL error."""
    try:
        return await work
    except DomainError as exc:
        raise to_graphql_error(exc, info) from exc
    except CurrencyMismatch as exc:
        raise _mismatch(exc, info) from exc
