"""JSON with exact decimal numbers, both ways, for every adapter.

Vendors send and take money and hours as JSON numbers. They never pass
through a float here: `encode` writes a `Decimal` as a number literal with its
exact text (``Decimal("412.35")`` → ``412.35``; the stdlib encoder behind
httpx's ``json=`` cannot) and refuses floats; `loads`/`decode` parse with
``parse_float=Decimal`` (httpx's ``response.json()`` would give floats).
Unreadable JSON from a vendor is a `MappingFailed` naming the system.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

import httpx

from domain.errors import MappingFailed

__all__ = ["decode", "decode_response", "encode", "loads"]


def encode(value: Any, *, ascii_only: bool = False) -> bytes:
    """JSON bytes for a request body; Decimal is an exact number, a date ``YYYY-MM-DD``.

    `ascii_only` escapes non-ASCII characters in strings (for vendors that want it).
    """
    string = encode_basestring_ascii if ascii_only else encode_basestring
    out: list[str] = []
    emit = out.append

    def write(value: Any) -> None:
        if value is None:
            emit("null")
        elif value is True:
            emit("true")
        elif value is False:
            emit("false")
        elif isinstance(value, str):
            emit(string(value))
        elif isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"cannot send a non-finite number: {value}")
            emit(format(value, "f"))
        elif isinstance(value, int):
            emit(int.__repr__(value))
        elif isinstance(value, date):
            emit(string(value.isoformat()))
        elif isinstance(value, Mapping):
            emit("{")
            for index, (key, item) in enumerate(value.items()):
                if index:
                    emit(",")
                emit(string(str(key)))
                emit(":")
                write(item)
            emit("}")
        elif isinstance(value, list | tuple):
            emit("[")
            for index, item in enumerate(value):
                if index:
                    emit(",")
                write(item)
            emit("]")
        elif isinstance(value, float):
            raise TypeError("floats are never sent; use Decimal")
        else:
            raise TypeError(f"cannot send {type(value).__name__} as JSON")

    write(value)
    return "".join(out).encode("utf-8")


def loads(content: bytes) -> Any:
    """Parse JSON, numbers with a fraction as Decimal; raises ValueError if unreadable."""
    return json.loads(content, parse_float=Decimal)


def decode(
    content: bytes, *, system: str, source: str = "the response", status: int | None = None
) -> Any:
    """Like `loads`, but unreadable JSON is a `MappingFailed` of `system`."""
    try:
        return loads(content)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise MappingFailed(
            f"unreadable JSON from {source}: {exc}", system=system, status=status
        ) from exc


def decode_response(response: httpx.Response, *, system: str) -> Any:
    """A response body as JSON; a `MappingFailed` naming the call if unreadable."""
    request = response.request
    return decode(
        response.content,
        system=system,
        source=f"{request.method} {request.url.path}",
        status=response.status_code,
    )
