"""Reading what a NetSuite request asks for: body, Prefer header, idempotency key."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request

from sandboxes.netsuite.errors import bad_request

__all__ = ["IDEMPOTENCY_HEADER", "base_url", "idempotency_key", "json_body", "prefers"]

IDEMPOTENCY_HEADER = "X-NetSuite-Idempotency-Key"


def base_url(request: Request) -> str:
    """Scheme and host the caller used; links and Locations are built on it."""
    return str(request.base_url).rstrip("/")


def prefers(request: Request, token: str) -> bool:
    values = request.headers.getlist("prefer")
    return any(token == part.strip().lower() for v in values for part in v.split(","))


def _number(text: str) -> Decimal:
    """A JSON number as Decimal; NaN when past Decimal's exponent range (``1e999...9``)."""
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal("NaN")


def _integer(text: str) -> int | Decimal:
    """An integer literal; one too long for `int` (over 4300 digits) becomes a Decimal."""
    try:
        return int(text)
    except ValueError:
        return _number(text)


async def json_body(request: Request) -> Any:
    """The body as JSON, numbers exact (as `sandboxes.jsonwire.loads`).

    ``NaN``/``Infinity`` literals and numbers too large to parse still reach
    the field checks as non-finite Decimals, so they are refused as
    INVALID_VALUE naming the field rather than as malformed content.
    """
    raw = await request.body()
    if not raw.strip():
        raise bad_request("INVALID_CONTENT", "Invalid content in the request body: it is empty.")
    try:
        return json.loads(raw, parse_float=_number, parse_int=_integer, parse_constant=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        if isinstance(exc, json.JSONDecodeError):
            detail = exc.msg
        else:
            detail = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "nested too deeply"
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
