"""The paging envelope shared by record lists and SuiteQL results.

``{"links": [...], "count", "hasMore", "offset", "totalResults", "items"}``
with ``rel`` links ``previous``, ``first``, ``next``, ``last``, ``self``.
``limit`` defaults to and may not exceed 1000.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sandboxes.netsuite.errors import bad_request

__all__ = ["MAX_LIMIT", "Window", "page", "window"]

MAX_LIMIT = 1000

Window = tuple[int, int]


def _integer(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(
            "INVALID_PARAMETER",
            f"Invalid value for the query parameter '{name}': {raw!r} is not an integer.",
            name,
        ) from None


def window(params: Mapping[str, str], *, offset_multiple_of_limit: bool = False) -> Window:
    """Read and check ``limit``/``offset`` (400 INVALID_PARAMETER when out of range)."""
    limit = _integer(params, "limit", MAX_LIMIT)
    offset = _integer(params, "offset", 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(
            "INVALID_PARAMETER",
            f"Invalid value for the query parameter 'limit': {limit}. "
            f"The value must be between 1 and {MAX_LIMIT}.",
            "limit",
        )
    if offset < 0:
        raise bad_request(
            "INVALID_PARAMETER",
            f"Invalid value for the query parameter 'offset': {offset}. It must not be negative.",
            "offset",
        )
    if offset_multiple_of_limit and offset % limit:
        raise bad_request(
            "INVALID_PARAMETER",
            f"Invalid value for the query parameter 'offset': {offset}. "
            "The offset must be a multiple of the limit.",
            "offset",
        )
    return limit, offset


def page(
    rows: Sequence[Any],
    win: Window,
    href: Callable[[int, int], str],
    render: Callable[[Any], Any] = lambda row: row,
) -> dict[str, Any]:
    """One page of `rows`; `href(limit, offset)` builds the links."""
    limit, offset = win
    total = len(rows)
    chunk = rows[offset : offset + limit]
    has_more = offset + len(chunk) < total
    last_offset = max(0, (total - 1) // limit * limit)
    links: list[dict[str, str]] = []
    if offset > 0:
        links.append({"rel": "previous", "href": href(limit, max(0, offset - limit))})
    links.append({"rel": "first", "href": href(limit, 0)})
    if has_more:
        links.append({"rel": "next", "href": href(limit, offset + limit)})
    links.append({"rel": "last", "href": href(limit, last_offset)})
    links.append({"rel": "self", "href": href(limit, offset)})
    return {
        "links": links,
        "count": len(chunk),
        "hasMore": has_more,
        "offset": offset,
        "totalResults": total,
        "items": [render(row) for row in chunk],
    }
