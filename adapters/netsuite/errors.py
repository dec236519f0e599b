"""NetSuite error answers → the domain error tree, keeping code and message.

Record, query and async calls fail with problem JSON
``{"type", "title", "status", "o:errorDetails": [{"detail", "o:errorPath",
"o:errorCode"}]}``; the OAuth token endpoint answers ``{"error",
"error_description"}``. We key on ``o:errorCode``, never on ``type`` (older
accounts use RFC 2616 URLs there).
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters.jsonwire import loads
from domain.errors import (
    AdapterError,
    AuthFailed,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)

__all__ = ["DUPLICATE_CODES", "SYSTEM", "is_throttled", "translate_error", "vendor_error"]

SYSTEM = "netsuite"
DUPLICATE_CODES = frozenset({"DUP_RECORD"})


def vendor_error(response: httpx.Response) -> tuple[str | None, str | None, str | None]:
    """``(o:errorCode, detail, o:errorPath)`` of an error response, as far as readable."""
    try:
        body: Any = loads(response.content)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        text = response.text.strip()
        return None, text[:300] or None, None
    if isinstance(body, dict):
        details = body.get("o:errorDetails")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            first = details[0]
            return (
                _text(first.get("o:errorCode")),
                _text(first.get("detail")),
                _text(first.get("o:errorPath")),
            )
        if "error" in body:  # OAuth 2.0 token endpoint
            return _text(body.get("error")), _text(body.get("error_description")), None
        return None, _text(body.get("title")), None
    return None, None, None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def is_throttled(response: httpx.Response) -> bool:
    """Retryable: 429 (concurrency governance) and 5xx."""
    return response.status_code == 429 or response.status_code >= 500


def translate_error(response: httpx.Response) -> AdapterError:
    status = response.status_code
    code, message, path = vendor_error(response)
    summary = f"HTTP {status}" + (f" {code}" if code else "")
    if path:
        summary += f" at {path}"
    kind: type[AdapterError]
    if status in (401, 403):
        kind = AuthFailed
    elif status == 404:
        kind = NotFound
    elif is_throttled(response):
        kind = UpstreamUnavailable
    else:
        kind = UpstreamRejected
    return kind(summary, system=SYSTEM, status=status, vendor_code=code, vendor_message=message)
