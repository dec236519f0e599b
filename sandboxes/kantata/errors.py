"""How Kantata says no: ``{"errors": [{"type": ..., "message": ..., "field": ...}]}``.

Kantata is built on brainstem, whose error helpers produce this shape:
``validation`` errors (422) name the ``field``; others (``system``, ``oauth``,
``rate_limit``) carry only a message. Exact type strings beyond ``validation``
are (unverified) in vendor-apis.md §2; clients should rely on ``message``.
"""

from __future__ import annotations

from starlette.responses import Response

from sandboxes.control import Faults
from sandboxes.kantata.serialise import KantataJSON

__all__ = [
    "KantataError",
    "error_body",
    "not_found",
    "server_error",
    "throttled",
    "unauthorized",
    "validation",
]


def error_body(kind: str, message: str, field: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"type": kind}
    if field is not None:
        error["field"] = field
    error["message"] = message
    return {"errors": [error]}


class KantataError(Exception):
    """Raised inside a handler; the dispatcher answers with the vendor's error body."""

    def __init__(self, status: int, kind: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.field = field

    def response(self) -> Response:
        return KantataJSON(error_body(self.kind, self.message, self.field), status_code=self.status)


def validation(field: str, message: str) -> KantataError:
    """422 with a brainstem validation error (the message is a full sentence)."""
    return KantataError(422, "validation", message, field=field)


def not_found(resource: str, record_id: str) -> KantataError:
    return KantataError(404, "system", f"Couldn't find {resource} with id={record_id}")


def unauthorized() -> Response:
    return KantataJSON(
        error_body("oauth", "Invalid OAuth 2 Request: the access token is missing or invalid"),
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
    )


def throttled(faults: Faults) -> Response:
    """The configurable throttle answer: 429 + Retry-After (limits are unverified)."""
    return KantataJSON(
        error_body("rate_limit", "Rate limit exceeded. Please retry after the indicated time."),
        status_code=429,
        headers={"Retry-After": str(faults.retry_after_s)},
    )


def server_error(status: int) -> Response:
    message = (
        "The service is temporarily unavailable. Please try again later."
        if status == 503
        else "Something went wrong on our end. Please try again."
    )
    return KantataJSON(error_body("system", message), status_code=status)
