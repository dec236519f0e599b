"""Unexpected errors leave the gateway as "Internal error" plus a correlation ID.

An error is deliberate when GraphQL itself raised it (syntax, validation,
variable coercion), when a resolver raised a `GraphQLError` (the resolvers'
UPSTREAM_UNAVAILABLE / UPSTREAM_REJECTED / NOT_FOUND / BAD_USER_INPUT
errors), a strawberry error, or a `domain.errors.DomainError`. Those keep their
message and extensions. Anything else is a bug: the client sees only
`{"message": "Internal error", "extensions": {"code": "INTERNAL",
"correlationId": ...}}` (in every environment) and the original message and
traceback go to the `gateway.graphql` log under the same correlation ID.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import StrawberryException
from strawberry.relay import GlobalIDValueError

from domain.errors import DomainError

__all__ = ["INTERNAL_CODE", "INTERNAL_MESSAGE", "format_errors", "internal_error", "is_deliberate"]

INTERNAL_MESSAGE = "Internal error"
INTERNAL_CODE = "INTERNAL"

logger = logging.getLogger("gateway.graphql")

_DELIBERATE = (GraphQLError, StrawberryException, DomainError)


def is_deliberate(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, _DELIBERATE)


def internal_error(correlation_id: str) -> dict[str, Any]:
    """The one shape a client sees for anything that went wrong by accident."""
    return {
        "message": INTERNAL_MESSAGE,
        "extensions": {"code": INTERNAL_CODE, "correlationId": correlation_id},
    }


def _masked(error: GraphQLError, correlation_id: str) -> dict[str, Any]:
    original = error.original_error
    assert original is not None
    logger.error(
        "unexpected %s at %s (correlation id %s): %s",
        type(original).__name__,
        ".".join(map(str, error.path or ())) or "<operation>",
        correlation_id,
        original,
        exc_info=(type(original), original, original.__traceback__),
    )
    shown: dict[str, Any] = {"message": INTERNAL_MESSAGE}
    if error.locations:
        shown["locations"] = [loc.formatted for loc in error.locations]
    if error.path is not None:
        shown["path"] = error.path
    return {**shown, "extensions": internal_error(correlation_id)["extensions"]}


def _client_fault(error: GraphQLError, correlation_id: str) -> dict[str, Any] | None:
    """Library errors that a client's bad input caused: shown as BAD_USER_INPUT."""
    original = error.original_error
    if isinstance(original, GlobalIDValueError):  # node(id:) with an id of no node type
        message = f"not the id of a node: {original}"
    elif (
        error.path
        and error.path[0] == "_entities"
        and isinstance(original, KeyError | AttributeError | TypeError)
    ):
        message = "invalid entity representation: expected {__typename, key fields}"
    else:
        return None
    shown = dict(error.formatted)
    shown["message"] = message
    shown["extensions"] = {"code": "BAD_USER_INPUT", "correlationId": correlation_id}
    return shown


def format_errors(
    errors: Sequence[GraphQLError], correlation_id: str
) -> tuple[list[dict[str, Any]], bool]:
    """The errors as the response shows them, and whether any was masked."""
    shown: list[dict[str, Any]] = []
    masked = False
    for error in errors:
        if is_deliberate(error):
            shown.append(dict(error.formatted))
        elif (fault := _client_fault(error, correlation_id)) is not None:
            shown.append(fault)
        else:
            shown.append(_masked(error, correlation_id))
            masked = True
    return shown, masked
