"""One NetSuite session: SuiteQL paging, record reads, idempotent creates and upserts.

All calls go through `VendorClient` (timeouts, retries, breaker, OAuth token,
correlation id). SuiteQL is a read-only POST and is retried like a GET; a
create carries ``X-NetSuite-Idempotency-Key`` (a UUIDv5 of the command's key)
and is retried too; the 204's ``Location`` names the new record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote as quote_path

from adapters.http import VendorClient
from adapters.jsonwire import decode_response, encode
from adapters.netsuite import queries
from adapters.netsuite.errors import DUPLICATE_CODES, SYSTEM
from adapters.netsuite.mapping import Row
from adapters.netsuite.wire import IDEMPOTENCY_HEADER, id_from_location, idempotency_uuid
from domain.errors import MappingFailed, NotFound, UpstreamRejected

__all__ = ["MAX_PAGE", "RECORD_ROOT", "SUITEQL_PATH", "Session"]

RECORD_ROOT = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
MAX_PAGE = 1000
MAX_PAGES = 1000
_JSON = {"Content-Type": "application/json"}


class Session:
    def __init__(self, http: VendorClient, *, page_size: int = MAX_PAGE) -> None:
        self._http = http
        self._page_size = max(1, min(page_size, MAX_PAGE))

    async def _page(self, url: str, params: dict[str, int] | None, q: str) -> tuple[Any, list[Row]]:
        response = await self._http.request(
            "POST",
            url,
            params=params,
            content=encode({"q": q}),
            headers={"Prefer": "transient", **_JSON},
            idempotent=True,
        )
        page = decode_response(response, system=SYSTEM)
        items = page.get("items") if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise MappingFailed("SuiteQL answer without items", system=SYSTEM)
        return page, items

    async def first_page(self, q: str) -> tuple[list[Row], bool]:
        """The first page of a query and whether more rows follow (for keyset paging, which
        asks again from the last row seen instead of following offsets)."""
        page, items = await self._page(SUITEQL_PATH, {"limit": self._page_size, "offset": 0}, q)
        return items, bool(page.get("hasMore"))

    async def query(self, q: str) -> list[Row]:
        """All rows of one query, following ``rel=next`` while ``hasMore``."""
        url = SUITEQL_PATH
        params: dict[str, int] | None = {"limit": self._page_size, "offset": 0}
        rows: list[Row] = []
        for _ in range(MAX_PAGES):
            page, items = await self._page(url, params, q)
            rows.extend(items)
            if not page.get("hasMore"):
                return rows
            url = next((x["href"] for x in page.get("links", []) if x.get("rel") == "next"), "")
            if not url:
                raise MappingFailed("SuiteQL page has more rows but no next link", system=SYSTEM)
            params = None
        raise MappingFailed(f"SuiteQL result exceeds {MAX_PAGES} pages", system=SYSTEM)

    async def query_ids(
        self, build: Callable[[str], str], column: str, ids: Sequence[str]
    ) -> list[Row]:
        rows: list[Row] = []
        for chunk in queries.chunks(queries.valid_ids(ids)):
            rows += await self.query(build(queries.in_ids(column, chunk)))
        return rows

    async def query_texts(
        self, build: Callable[[str], str], column: str, values: Sequence[str]
    ) -> list[Row]:
        rows: list[Row] = []
        for chunk in queries.chunks(list(dict.fromkeys(values))):
            rows += await self.query(build(queries.in_texts(column, chunk)))
        return rows

    async def create(
        self,
        record_type: str,
        body: dict[str, Any],
        idempotency_key: str,
        *,
        table: str,
        type_filter: str | None = None,
    ) -> str:
        """POST a record; on a duplicate ``externalId`` resolve the record that exists."""
        headers = {IDEMPOTENCY_HEADER: idempotency_uuid(idempotency_key), **_JSON}
        try:
            response = await self._http.request(
                "POST",
                f"{RECORD_ROOT}/{record_type}",
                content=encode(body),
                headers=headers,
                idempotent=True,
            )
        except UpstreamRejected as exc:
            if exc.vendor_code not in DUPLICATE_CODES:
                raise
            external_id = str(body["externalId"])
            found = await self.query(queries.id_by_external_id(table, external_id, type_filter))
            if not found:
                raise
            return str(found[0]["id"])
        return id_from_location(response)

    async def record(self, record_type: str, record_id: str, fields: str) -> dict[str, Any]:
        """One record by internal id (record service; an unknown id is NotFound)."""
        if not record_id.isdigit():
            raise NotFound(f"{record_type} {record_id!r} is not a NetSuite id", system=SYSTEM)
        response = await self._http.request(
            "GET", f"{RECORD_ROOT}/{record_type}/{record_id}", params={"fields": fields}
        )
        body = decode_response(response, system=SYSTEM)
        if not isinstance(body, dict):
            raise MappingFailed(f"{record_type} {record_id} is not a JSON object", system=SYSTEM)
        return body

    async def upsert(self, record_type: str, external_id: str, body: dict[str, Any]) -> None:
        """``PUT {type}/eid:{externalId}``: an idempotent upsert (204, no body)."""
        await self._http.request(
            "PUT",
            f"{RECORD_ROOT}/{record_type}/eid:{quote_path(external_id, safe='')}",
            content=encode(body),
            headers=_JSON,
        )
