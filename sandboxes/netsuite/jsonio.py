"""NetSuite's JSON on the wire: exact Decimal numbers out, Decimal numbers in.

NetSuite writes amounts as JSON numbers (``"total": 8412.35``). The sandbox
keeps amounts as `Decimal` and writes them as number literals with their exact
decimal text, so a client parsing with ``parse_float=Decimal`` loses nothing.
Every response carries NetSuite's media type,
``application/vnd.oracle.resource+json; type=singular|collection|error``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from starlette.responses import Response

__all__ = [
    "MEDIA_TYPE",
    "ResourceKind",
    "dumps",
    "format_decimal",
    "loads",
    "resource_response",
]

MEDIA_TYPE = "application/vnd.oracle.resource+json"
ResourceKind = Literal["singular", "collection", "error"]

_encode_str = json.encoder.encode_basestring


def format_decimal(value: Decimal) -> str:
    """Plain decimal text without an exponent: ``Decimal("1E+3")`` -> ``"1000"``."""
    text = format(value, "f")
    return text


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, Decimal):
        out.append(format_decimal(value))
    elif isinstance(value, int):
        out.append(str(value))
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
        raise TypeError(f"cannot write {type(value).__name__} as NetSuite JSON")


def dumps(value: Any) -> bytes:
    """Serialise to compact JSON; `Decimal` becomes an exact number literal."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("utf-8")


def loads(body: bytes) -> Any:
    """Parse a request body; JSON numbers with a fraction become `Decimal`."""
    return json.loads(body, parse_float=Decimal)


def resource_response(
    body: Any,
    *,
    kind: ResourceKind = "singular",
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        dumps(body),
        status_code=status,
        headers=dict(headers or {}),
        media_type=f"{MEDIA_TYPE}; type={kind}",
    )
