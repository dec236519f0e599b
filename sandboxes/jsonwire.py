"""JSON with exact decimal numbers, as every sandbox writes and reads it.

The vendors write money and hours as JSON number literals (``125000.50``).
The sandboxes hold such numbers as `Decimal` and must write them with their
exact decimal text; the standard encoder can only write floats (its C path
ignores subclasses), so `dumps` writes the few JSON types the sandboxes use
itself. Floats are refused: a sandbox never holds one. `loads` parses request
bodies with ``parse_float=Decimal``, so nothing passes through a float either
way. Vendor specifics (datetime formats, ASCII-only bodies, media types) stay
in each vendor's package.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

__all__ = ["dumps", "loads"]


def dumps(
    value: Any, *, ascii_only: bool = False, default: Callable[[Any], Any] | None = None
) -> str:
    """Compact JSON text; a `Decimal` becomes a number literal with its exact digits.

    `ascii_only` escapes non-ASCII characters in strings. `default` turns any
    other value (a vendor's datetime, say) into one that can be written, or
    raises TypeError; without it such values are refused.
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
                raise ValueError(f"cannot write {value} as a JSON number")
            emit(format(value, "f"))
        elif isinstance(value, int):
            emit(int.__repr__(value))
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
            raise TypeError("cannot write a float as JSON: the sandboxes hold Decimal")
        elif default is not None:
            write(default(value))
        else:
            raise TypeError(f"cannot write {type(value).__name__} as JSON")

    write(value)
    return "".join(out)


def loads(raw: bytes | str, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """Parse a request body; JSON numbers with a fraction become `Decimal`, never float.

    `parse_constant` is called for ``NaN``/``Infinity``/``-Infinity`` (e.g. to
    refuse them the way a vendor's parser does).
    """
    return json.loads(raw, parse_float=Decimal, parse_constant=parse_constant)
