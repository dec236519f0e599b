"""Kantata's JSON on the wire: exact decimal numbers and the response envelope.

Kantata money is integer cents, but some numbers are fractional (an
allocation's ``percentage``). We hold those as `Decimal` and write them as JSON
number literals with their exact decimal text, the way the vendor's JSON
looks; Python's `json` would need floats for that, so this module writes the
few JSON types we use itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from starlette.responses import Response

__all__ = ["KantataJSON", "Maps", "dumps", "envelope"]

Maps = dict[str, dict[str, dict[str, Any]]]
"""Per-type record maps of an envelope: ``{"workspaces": {"10": {...}}}``."""


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as a JSON number")
        out.append(format(value, "f"))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
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


def dumps(value: Any) -> bytes:
    """Serialise JSON-ready data; Decimals become number literals, floats are refused."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("utf-8")


class KantataJSON(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def envelope(
    results: Iterable[tuple[str, str]],
    maps: Maps,
    *,
    count: int,
    page_number: int,
    page_size: int,
) -> dict[str, Any]:
    """The response envelope of vendor-apis §2: count, meta, ordered results, type maps."""
    page_count = math.ceil(count / page_size) if page_size else 0
    body: dict[str, Any] = {
        "count": count,
        "meta": {
            "count": count,
            "page_count": page_count,
            "page_number": page_number,
            "page_size": page_size,
        },
        "results": [{"key": key, "id": record_id} for key, record_id in results],
    }
    for key, records in maps.items():
        body[key] = records
    return body
