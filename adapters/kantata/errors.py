"""Kantata's error bodies → the domain error tree.

Kantata answers non-2xx with ``{"errors": [{"type", "message", "field"?}]}``.
The ``type`` (``validation``, ``system``, ``oauth``, ``rate_limit``) becomes
the vendor code and the messages the vendor message; exact type strings are
unverified, so the HTTP status decides the error class. 429 and 5xx are
throttling / server trouble and retryable; everything else is a refusal.
"""

from __future__ import annotations

import json

import httpx

from adapters.kantata.envelope import SYSTEM
from domain.errors import (
    AdapterError,
    AuthFailed,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)

__all__ = ["RETRYABLE_STATUS", "SYSTEM", "is_throttled", "translate_error", "vendor_error"]

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def vendor_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """(vendor code, vendor message) from a Kantata error body, if it has one."""
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, None
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return None, None
    kinds: list[str] = []
    messages: list[str] = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        kind, message = error.get("type"), error.get("message")
        if isinstance(kind, str) and kind not in kinds:
            kinds.append(kind)
        if isinstance(message, str):
            messages.append(message)
    return (",".join(kinds) or None), ("; ".join(messages) or None)


def is_throttled(response: httpx.Response) -> bool:
    """Retryable answers: the throttle (429) and server errors."""
    return response.status_code in RETRYABLE_STATUS


def translate_error(response: httpx.Response) -> AdapterError:
    status = response.status_code
    code, message = vendor_error(response)
    summary = message or response.reason_phrase or f"HTTP {status}"
    where = f"HTTP {status} from {response.request.method} {response.request.url.path}"
    kind: type[AdapterError]
    if status == 401:
        kind, text = AuthFailed, f"credentials refused ({where})"
    elif status == 404:
        kind, text = NotFound, f"not found ({where}): {summary}"
    elif status == 429:
        kind, text = UpstreamUnavailable, f"throttled ({where})"
    elif status >= 500:
        kind, text = UpstreamUnavailable, f"server error ({where}): {summary}"
    else:
        kind, text = UpstreamRejected, f"request refused ({where}): {summary}"
    return kind(text, system=SYSTEM, status=status, vendor_code=code, vendor_message=message)
