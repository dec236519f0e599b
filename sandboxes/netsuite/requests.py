"""Reading what a NetSuite request asks for: body, Prefer header, idempotency key."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request

from sandboxes import jsonwire
from sandboxes.netsuite.errors import bad_request

__all__ = ["IDEMPOTENCY_HEADER", "base_url", "idempotency_key", "json_body", "prefers"]

IDEMPOTENCY_HEADER = "X-NetSuite-Idempotency-Key"


def base_url(request: Request) -> str:
    """Scheme and host the caller used; links and Locations are built on it."""
    return str(request.base_url).rstrip("/")


def prefers(request: Request, token: str) -> bool:
    values = request.headers.getlist("prefer")
    return any(token == part.strip().lower() for v in values for part in v.split(","))


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise bad_request("INVALID_CONTENT", "Invalid content in the request body: it is empty.")
    try:
        return jsonwire.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise bad_request(
            "INVALID_CONTENT", f"Invalid content in the request body: malformed JSON ({detail})."
        ) from None


def idempotency_key(request: Request) -> str | None:
    """The ``X-NetSuite-Idempotency-Key`` (must be a UUID, unverified), or None."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise bad_request(
            "INVALID_HEADER",
            f"Invalid value for the header '{IDEMPOTENCY_HEADER}': it must be a UUID.",
            IDEMPOTENCY_HEADER,
        ) from None
