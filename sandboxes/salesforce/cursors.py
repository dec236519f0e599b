"""Query result paging: server-side cursors behind ``nextRecordsUrl``.

A query's full result is captured when it runs; pages of `batch_size`
records (200..2000, default 2000) are served from it through locators such
as ``01g5j00000Ab3cDEF1-2000`` (cursor id, dash, offset). A cursor idle for
longer than `ttl` (15 minutes), an unknown cursor or an offset that is not a
page boundary gives 400 INVALID_QUERY_LOCATOR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandboxes.salesforce.errors import SalesforceError
from sandboxes.salesforce.ids import IdMinter

__all__ = ["DEFAULT_BATCH", "MAX_BATCH", "MIN_BATCH", "CursorStore", "batch_size_from_header"]

DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_BATCH = 2000
API_PREFIX = "/services/data/v60.0"


def batch_size_from_header(header: str | None) -> int:
    """``Sforce-Query-Options: batchSize=N`` is a hint, clamped to 200..2000."""
    if not header:
        return DEFAULT_BATCH
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH, min(MAX_BATCH, int(value.strip())))
    return DEFAULT_BATCH


@dataclass(slots=True)
class _Cursor:
    records: list[dict[str, Any]]
    batch_size: int
    endpoint: str  # "query" or "queryAll"
    touched: datetime


class CursorStore:
    def __init__(self, clock: Callable[[], datetime], ttl: timedelta = timedelta(minutes=15)):
        self._clock = clock
        self._ttl = ttl
        self._cursors: dict[str, _Cursor] = {}
        self._ids = IdMinter(0)

    def clear(self) -> None:
        self._cursors.clear()

    def _page(self, cursor_id: str, cursor: _Cursor, offset: int) -> dict[str, Any]:
        end = offset + cursor.batch_size
        body: dict[str, Any] = {
            "totalSize": len(cursor.records),
            "done": end >= len(cursor.records),
        }
        if not body["done"]:
            body["nextRecordsUrl"] = f"{API_PREFIX}/{cursor.endpoint}/{cursor_id}-{end}"
        body["records"] = cursor.records[offset:end]
        return body

    def first_page(
        self, records: list[dict[str, Any]], total: int, batch_size: int, endpoint: str
    ) -> dict[str, Any]:
        if len(records) <= batch_size:
            return {"totalSize": total, "done": True, "records": records}
        self._expire()
        cursor_id = self._ids.mint("01g")
        cursor = _Cursor(records, batch_size, endpoint, self._clock())
        self._cursors[cursor_id] = cursor
        return self._page(cursor_id, cursor, 0)

    def next_page(self, locator: str) -> dict[str, Any]:
        self._expire()
        cursor_id, _, offset_text = locator.rpartition("-")
        cursor = self._cursors.get(cursor_id)
        if (
            cursor is None
            or not offset_text.isdigit()
            or int(offset_text) % cursor.batch_size
            or int(offset_text) >= len(cursor.records)
        ):
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        cursor.touched = self._clock()
        return self._page(cursor_id, cursor, int(offset_text))

    def _expire(self) -> None:
        now = self._clock()
        for cursor_id in [c for c, cur in self._cursors.items() if now - cur.touched > self._ttl]:
            del self._cursors[cursor_id]
