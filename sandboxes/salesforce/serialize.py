"""JSON the way Salesforce writes it: exact numbers, ``...000+0000`` datetimes.

Money and other numbers are kept as Decimal in the sandbox and written as JSON
number literals with their exact decimal text (``125000.50``), never through a
float (`sandboxes.jsonwire`). Dates are ``YYYY-MM-DD``; datetimes are UTC with
milliseconds and a ``+0000`` offset. Request bodies refuse ``NaN`` and
``Infinity`` the way Salesforce's parser does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from starlette.responses import Response

from sandboxes import jsonwire

__all__ = ["dumps", "format_datetime", "json_response", "parse_json"]


def format_datetime(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _temporal(value: Any) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    """Serialise; Decimal becomes a number literal with its exact text (floats are refused)."""
    return jsonwire.dumps(value, default=_temporal)


def json_response(
    content: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        dumps(content).encode(),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json;charset=UTF-8",
    )


def parse_json(raw: bytes) -> Any:
    """Parse a request body; JSON numbers with a fraction become Decimal, never float."""
    return jsonwire.loads(raw, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unrecognized token '{name}'")
