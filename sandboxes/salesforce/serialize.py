"""JSON the way Salesforce writes it: exact numbers, ``...000+0000`` datetimes.

Money and other numbers are kept as Decimal in the sandbox and written as JSON
number literals with their exact decimal text (``125000.50``), never through a
float. Dates are ``YYYY-MM-DD``; datetimes are UTC with milliseconds and a
``+0000`` offset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import Response

__all__ = ["dumps", "format_datetime", "json_response", "parse_json"]

_encode_str = json.JSONEncoder(ensure_ascii=False).encode


def format_datetime(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as JSON")
        out.append(format(value, "f"))
    elif isinstance(value, datetime):
        out.append(f'"{format_datetime(value)}"')
    elif isinstance(value, date):
        out.append(f'"{value.isoformat()}"')
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    """Serialise; Decimal becomes a number literal with its exact text (floats are refused)."""
    if isinstance(value, float):
        raise TypeError("the sandbox never holds floats")
    out: list[str] = []
    _write(value, out)
    return "".join(out)


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
    return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unrecognized token '{name}'")
