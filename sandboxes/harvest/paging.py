"""Harvest's page envelope: metadata, ``links`` and keyset cursors.

Rows are served newest first. The first page (and any ``page=N`` request) is
offset-based and reports ``page``/``next_page``/``previous_page``; following
``links.next`` switches to a cursor (keyset after the last row served), where
those three are null as on Harvest's cursor pages. ``links.next`` is null on
the last page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request

from sandboxes.harvest.errors import message
from sandboxes.harvest.query import ListQuery, encode_cursor

__all__ = ["paginate"]

Row = TypeVar("Row")


def paginate(
    request: Request,
    resource: str,
    rows: Sequence[Row],
    query: ListQuery,
    *,
    sort_key: Callable[[Row], tuple[Any, ...]],
    render: Callable[[Row], dict[str, Any]],
) -> dict[str, Any]:
    """One page of `rows` (already filtered) as Harvest's list envelope."""
    ordered = sorted(rows, key=sort_key, reverse=True)
    total = len(ordered)
    per_page = query.per_page
    total_pages = max(1, -(-total // per_page))
    if query.after is not None:
        position = query.after
        try:
            remaining = [row for row in ordered if sort_key(row) < position]
        except TypeError:  # a forged cursor whose key does not compare
            raise message(422, "Invalid cursor") from None
        chunk = remaining[:per_page]
        has_more = len(remaining) > per_page
        page: int | None = None
    else:
        page = query.page or 1
        start = (page - 1) * per_page
        chunk = ordered[start : start + per_page]
        has_more = start + per_page < total

    base = str(request.url.replace(query=""))

    def link(**params: Any) -> str:
        return f"{base}?{urlencode(params)}"

    next_link = None
    if has_more and chunk:
        cursor = encode_cursor(resource, query.filters, sort_key(chunk[-1]))
        next_link = link(cursor=cursor, per_page=per_page, ref="next_cursor")
    previous_link = None
    if page is not None and page > 1:
        previous_link = link(**query.filters, page=page - 1, per_page=per_page, ref="previous")
    return {
        resource: [render(row) for row in chunk],
        "per_page": per_page,
        "total_pages": total_pages,
        "total_entries": total,
        "next_page": page + 1 if page is not None and has_more else None,
        "previous_page": page - 1 if page is not None and page > 1 else None,
        "page": page,
        "links": {
            "first": link(**query.filters, page=1, per_page=per_page, ref="first"),
            "next": next_link,
            "previous": previous_link,
            "last": link(**query.filters, page=total_pages, per_page=per_page, ref="last"),
        },
    }
