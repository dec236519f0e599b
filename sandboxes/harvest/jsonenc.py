"""JSON as Harvest writes it: money and hours are JSON numbers with exact decimal text.

The standard encoder has no way to write a `Decimal` as a number literal (its
C float path ignores subclasses), so this small encoder walks the values the
sandbox renders: dict, list/tuple, str, int, bool, None and Decimal.
"""

from __future__ import annotations

from decimal import Decimal
from json import JSONDecodeError, loads
from json.encoder import encode_basestring_ascii
from typing import Any

from starlette.responses import Response

__all__ = ["HarvestJSONResponse", "JSONDecodeError", "dumps", "parse_body"]


def dumps(value: Any) -> str:
    """Serialise `value`; a Decimal becomes a number with its exact digits (``150.00``)."""
    parts: list[str] = []
    _encode(value, parts.append)
    return "".join(parts)


def _encode(value: Any, emit: Any) -> None:
    if value is None:
        emit("null")
    elif value is True:
        emit("true")
    elif value is False:
        emit("false")
    elif isinstance(value, str):
        emit(encode_basestring_ascii(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as JSON")
        text = str(value)
        emit(format(value, "f") if "E" in text else text)
    elif isinstance(value, int):
        emit(int.__repr__(value))
    elif isinstance(value, dict):
        emit("{")
        first = True
        for key, item in value.items():
            if not first:
                emit(",")
            first = False
            emit(encode_basestring_ascii(str(key)))
            emit(":")
            _encode(item, emit)
        emit("}")
    elif isinstance(value, list | tuple):
        emit("[")
        for index, item in enumerate(value):
            if index:
                emit(",")
            _encode(item, emit)
        emit("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def parse_body(raw: bytes) -> Any:
    """Parse a request body; numbers with a fraction become Decimal, never float."""
    return loads(raw, parse_float=Decimal)


class HarvestJSONResponse(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("ascii")
