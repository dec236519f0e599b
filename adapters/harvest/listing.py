"""Reading Harvest listings: every page, with bounded concurrency, consistently.

A listing's first page is requested with the caller's filters and
``per_page``. Once it has told ``total_pages``, pages 2..N are requested by
Harvest's documented ``page`` parameter, concurrently (at most `concurrency`
in flight): the calls are those of walking the cursor, but the waits overlap
(a 500-id read over 11 pages is 2 latency rounds, not 11).

Page numbers are offsets, so a row written or deleted while the pages are
read shifts the rows after it: a row can then be served twice or not at
all. Following ``links.next`` (a keyset cursor) is immune. So the concurrent
read is checked: every page carries ``total_entries``, and if any page's
differs from the first page's, or the rows' ``id``s are not disjoint, the
result is discarded and the listing is read again from its first page by
following ``links.next`` verbatim until it is null (one call per page, one
after the other). What the check cannot see: a delete and an insert that
balance each other and shift no row onto a page already read (Harvest
reports deletions nowhere anyway; see the vendor notes on reconciliation).
Report listings carry no row ids and no cursor (their ``links.next`` are
page numbers), so for them only ``total_entries`` is checked.

A page without a page count falls back to following ``links.next`` too. A
link that leaves the API's origin is refused rather than sent our token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

from adapters.harvest.errors import SYSTEM
from adapters.harvest.wire import Json, decode, next_link, rows
from adapters.http import VendorClient
from domain.errors import MappingFailed

__all__ = ["Lister"]

T = TypeVar("T")


class Lister:
    def __init__(self, http: VendorClient, *, page_size: int, concurrency: int) -> None:
        self._http = http
        self._page_size = page_size
        self._concurrency = concurrency
        self._origin = urlsplit(str(http.http.base_url))[:2]

    async def _follow(self, page: Json) -> list[Json]:
        """The pages after `page`, by ``links.next`` verbatim until it is null."""
        found: list[Json] = []
        while (link := next_link(page)) is not None:
            if urlsplit(link)[:2] != self._origin:
                raise MappingFailed(f"links.next leaves the API origin: {link}", system=SYSTEM)
            page = decode(await self._http.request("GET", link))
            found.append(page)
        return found

    async def first(self, path: str, params: dict[str, str]) -> Json:
        query = {**params, "per_page": str(self._page_size)}
        return decode(await self._http.request("GET", path, params=query))

    async def pages(self, path: str, key: str, params: dict[str, str], first: Json) -> list[Json]:
        """Every page of the listing whose first page is `first` (rows under `key`).

        Pages 2..N are fetched concurrently; if they disagree with `first`
        (see the module docstring), the listing is re-read by its cursor and
        those pages, starting with a fresh first page, are returned instead.
        """
        count = first.get("total_pages")
        if next_link(first) is None:
            return [first]
        if not isinstance(count, int) or count < 2:  # no page count: walk the cursor
            return [first, *await self._follow(first)]
        query = {**params, "per_page": str(self._page_size)}
        rest = await self.bounded(
            [self._page(path, {**query, "page": str(n)}) for n in range(2, count + 1)]
        )
        pages = [first, *rest]
        if _consistent(pages, key):
            return pages
        fresh = await self.first(path, params)
        return [fresh, *await self._follow(fresh)]

    async def all(self, path: str, key: str, params: dict[str, str]) -> list[Json]:
        """Every row of a listing."""
        first = await self.first(path, params)
        pages = await self.pages(path, key, params, first)
        return [obj for page in pages for obj in rows(page, key)]

    async def _page(self, path: str, query: dict[str, str]) -> Json:
        return decode(await self._http.request("GET", path, params=query))

    async def bounded(self, calls: Sequence[Awaitable[T]]) -> list[T]:
        """Await `calls`, at most `concurrency` in flight; the first error cancels the rest."""
        gate = asyncio.Semaphore(self._concurrency)

        async def run(call: Awaitable[T]) -> T:
            async with gate:
                return await call

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(run(call)) for call in calls]
        except* Exception as failures:
            raise failures.exceptions[0] from None
        return [task.result() for task in tasks]

    async def settled(self, calls: Sequence[Awaitable[T]]) -> list[T | BaseException]:
        """Await every call, at most `concurrency` in flight; failures are returned."""
        gate = asyncio.Semaphore(self._concurrency)

        async def run(call: Awaitable[T]) -> T:
            async with gate:
                return await call

        return await asyncio.gather(*(run(call) for call in calls), return_exceptions=True)


def _consistent(pages: Sequence[Json], key: str) -> bool:
    """Pages read by number show one state of the listing: same total, no row twice."""
    total = pages[0].get("total_entries")
    if any(page.get("total_entries") != total for page in pages[1:]):
        return False
    seen: set[object] = set()
    for page in pages:
        for obj in rows(page, key):
            row_id = obj.get("id")
            if row_id is None:
                continue
            if row_id in seen:
                return False
            seen.add(row_id)
    return True
