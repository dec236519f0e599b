"""Salesforce error answers: ``[{"message", "errorCode", "fields"?}]`` with a status.

Handlers raise `SalesforceError`; the API wrapper turns it into the vendor's
array-shaped body. The fault middleware's throttle and server-error answers
are built here too, so every error the sandbox sends looks like Salesforce's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from starlette.responses import Response

from sandboxes.control import Faults
from sandboxes.salesforce.serialize import json_response

__all__ = [
    "NOT_FOUND_MESSAGE",
    "SalesforceError",
    "invalid_session",
    "not_found",
    "server_error_response",
    "throttled_response",
]

NOT_FOUND_MESSAGE = "The requested resource does not exist"


class SalesforceError(Exception):
    """A vendor error answer: HTTP status, errorCode, message and optional fields."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Sequence[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields) if fields is not None else None
        self.headers = headers or {}

    def body(self) -> list[dict[str, object]]:
        item: dict[str, object] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]

    def response(self) -> Response:
        return json_response(self.body(), status=self.status, headers=self.headers)


def not_found() -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def invalid_session() -> SalesforceError:
    return SalesforceError(
        401,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
        headers={"WWW-Authenticate": 'Token realm="Salesforce"'},
    )


def throttled_response(limit_header: Callable[[], str]) -> Callable[[Faults], Response]:
    """The over-quota answer: 403 REQUEST_LIMIT_EXCEEDED (never 429, no Retry-After)."""

    def build(faults: Faults) -> Response:
        error = SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        response = error.response()
        response.headers["Sforce-Limit-Info"] = limit_header()
        return response

    return build


def server_error_response() -> Callable[[int], Response]:
    """500 UNKNOWN_EXCEPTION with an ErrorId, or 503 SERVER_UNAVAILABLE."""
    counter = itertools.count(1)

    def build(status: int) -> Response:
        if status == 503:
            error = SalesforceError(
                503,
                "SERVER_UNAVAILABLE",
                "Server temporarily unavailable. Please try again later.",
            )
        else:
            n = next(counter)
            error = SalesforceError(
                status,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if you contact "
                f"support: {1_000_000_000 + n}-{10_000 + n} ({-900_000_000 - n})",
            )
        return error.response()

    return build
