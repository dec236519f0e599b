"""Harvest's error responses → the domain error tree, and what counts as throttling.

Harvest answers with ``{"message": "..."}`` (400, 404, 422, 429, 5xx) or the
OAuth shape ``{"error": "invalid_token", "error_description": "..."}`` (401,
403). The vendor code kept is ``error`` when present; the vendor message is
``message``, else ``error_description``, else ``error``.
"""

from __future__ import annotations

import json

import httpx

from domain.errors import (
    AdapterError,
    AuthFailed,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)

__all__ = ["SYSTEM", "is_throttled", "translate_error"]

SYSTEM = "harvest"


def is_throttled(response: httpx.Response) -> bool:
    """429 (with Retry-After) and 5xx are technical failures worth retrying."""
    return response.status_code == 429 or response.status_code >= 500


def _vendor_detail(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip()[:300]
        return None, text or None
    if not isinstance(body, dict):
        return None, str(body)[:300]
    error = body.get("error")
    code = error if isinstance(error, str) else None
    for key in ("message", "error_description", "error"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return code, value
    return code, None


def translate_error(response: httpx.Response) -> AdapterError:
    """The domain error a non-success Harvest response means."""
    status = response.status_code
    code, text = _vendor_detail(response)
    what = f"HTTP {status} from {response.request.method} {response.request.url.path}"
    summary = f"{what}: {text}" if text else what
    kind: type[AdapterError]
    if status in (401, 403):
        kind = AuthFailed
    elif status == 404:
        kind = NotFound
    elif is_throttled(response):
        kind = UpstreamUnavailable
    else:
        kind = UpstreamRejected
    return kind(summary, system=SYSTEM, status=status, vendor_code=code, vendor_message=text)
