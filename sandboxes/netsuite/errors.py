"""NetSuite's error answers: RFC 9457-style problem JSON with ``o:errorDetails``.

Every failure the sandbox reports is raised as `NsError` and rendered by
`problem_response`::

    {"type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
     "title": "Bad Request", "status": 400,
     "o:errorDetails": [{"detail": "...", "o:errorPath": "subsidiary",
                         "o:errorCode": "INVALID_VALUE"}]}

with ``Content-Type: application/vnd.oracle.resource+json; type=error``.
Codes used: INVALID_LOGIN (401), INSUFFICIENT_PERMISSION (403),
NONEXISTENT_ID (404), INVALID_VALUE / USER_ERROR / INVALID_CONTENT /
INVALID_PARAMETER / INVALID_HEADER (400), DUP_RECORD (400, a duplicate
``externalId`` on create — the sandbox's choice), IDEMPOTENCY_ERROR (400),
METHOD_NOT_ALLOWED (405), CONCURRENCY_LIMIT_EXCEEDED (429, unverified),
UNEXPECTED_ERROR (500) and SERVICE_UNAVAILABLE (503).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from starlette.responses import Response

from sandboxes.netsuite.jsonio import resource_response

__all__ = [
    "NsError",
    "bad_request",
    "not_found",
    "problem_body",
    "problem_response",
    "server_error_response",
    "throttled_response",
]

_TYPES: dict[int, str] = {
    400: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
    401: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    403: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4",
    404: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
    405: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6",
    415: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.16",
    429: "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
    500: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1",
    503: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4",
}


class NsError(Exception):
    """A NetSuite error answer: status, ``o:errorCode``, detail and optional path."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        path: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return problem_response(
            self.status, self.code, self.detail, path=self.path, headers=self.headers
        )


def problem_body(status: int, code: str, detail: str, path: str | None = None) -> dict[str, object]:
    error: dict[str, str] = {"detail": detail}
    if path is not None:
        error["o:errorPath"] = path
    error["o:errorCode"] = code
    return {
        "type": _TYPES.get(status, _TYPES[400]),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "o:errorDetails": [error],
    }


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    path: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = problem_body(status, code, detail, path)
    return resource_response(body, kind="error", status=status, headers=headers)


def bad_request(code: str, detail: str, path: str | None = None) -> NsError:
    return NsError(400, code, detail, path=path)


def not_found(record_type: str, record_id: str) -> NsError:
    return NsError(
        404,
        "NONEXISTENT_ID",
        f"The record instance does not exist. Provide a valid record instance ID. "
        f"(record type: {record_type}, id: {record_id})",
    )


def throttled_response() -> Response:
    """The concurrency-governance answer: 429, no Retry-After (none is documented)."""
    return problem_response(
        429,
        "CONCURRENCY_LIMIT_EXCEEDED",
        "Concurrent request limit exceeded. Request blocked.",
    )


def server_error_response(status: int) -> Response:
    if status == 503:
        return problem_response(
            503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Try again later."
        )
    return problem_response(
        status,
        "UNEXPECTED_ERROR",
        "An unexpected error occurred. Error ID: sandbox-injected-fault",
    )
