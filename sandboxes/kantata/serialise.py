"""Kantata's JSON on the wire: exact decimal numbers and the response envelope.

Kantata money is integer cents, but some numbers are fractional (an
allocation's ``percentage``). We hold those as `Decimal` and write them as JSON
number literals with their exact decimal text, the way the vendor's JSON
looks (`sandboxes.jsonwire`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from starlette.responses import Response

from sandboxes import jsonwire

__all__ = ["KantataJSON", "Maps", "envelope"]

Maps = dict[str, dict[str, dict[str, Any]]]
"""Per-type record maps of an envelope: ``{"workspaces": {"10": {...}}}``."""


class KantataJSON(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return jsonwire.dumps(content).encode("utf-8")


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
