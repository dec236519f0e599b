"""Salesforce's error bodies → the domain error tree.

The REST API answers errors with ``[{"message", "errorCode", "fields"?}]``;
the OAuth token endpoint with ``{"error", "error_description"}``. Both keep
their code and message on the domain error. Salesforce never sends 429: it
throttles with 403 REQUEST_LIMIT_EXCEEDED, which is retryable like 5xx; any
other 403 (INSUFFICIENT_ACCESS, ...) is a refusal and is not retried.
"""

from __future__ import annotations

import httpx

from adapters.jsonwire import loads
from domain.errors import (
    AdapterError,
    AuthFailed,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)

__all__ = ["LIMIT_EXCEEDED", "SYSTEM", "is_throttled", "translate_error", "vendor_error"]

SYSTEM = "salesforce"
LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
_OAUTH_CODES = frozenset(
    {"invalid_client", "invalid_client_id", "invalid_grant", "unsupported_grant_type"}
)


def vendor_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """(errorCode, message) of the first error in a Salesforce or OAuth error body."""
    try:
        body = loads(response.content)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return None, None
    if isinstance(body, list) and body and isinstance(body[0], dict):
        code, message = body[0].get("errorCode"), body[0].get("message")
    elif isinstance(body, dict) and "error" in body:
        code, message = body.get("error"), body.get("error_description")
    else:
        return None, None
    return (
        code if isinstance(code, str) else None,
        message.strip() if isinstance(message, str) else None,
    )


def is_throttled(response: httpx.Response) -> bool:
    """Retryable: server errors and 403 REQUEST_LIMIT_EXCEEDED (the vendor's throttle)."""
    if response.status_code >= 500:
        return True
    return response.status_code == 403 and vendor_error(response)[0] == LIMIT_EXCEEDED


def translate_error(response: httpx.Response) -> AdapterError:
    status = response.status_code
    code, message = vendor_error(response)
    summary = message or response.reason_phrase or f"HTTP {status}"
    where = f"HTTP {status} from {response.request.method} {response.request.url.path}"
    kind: type[AdapterError]
    if status >= 500:
        kind, text = UpstreamUnavailable, f"server error ({where}): {summary}"
    elif status == 403 and code == LIMIT_EXCEEDED:
        kind, text = UpstreamUnavailable, f"API request limit exceeded ({where})"
    elif status == 401 or code in _OAUTH_CODES:
        kind, text = AuthFailed, f"credentials refused ({where}): {summary}"
    elif status == 404:
        kind, text = NotFound, f"not found ({where}): {summary}"
    else:
        kind, text = UpstreamRejected, f"request refused ({where}): {summary}"
    return kind(text, system=SYSTEM, status=status, vendor_code=code, vendor_message=message)
