"""Reading Harvest listings: every page, with bounded concurrency.

A listing's first page is requested with the caller's filters and
``per_page``. Once it has told ``total_pages``, pages 2..N are requested by
Harvest's documented ``page`` parameter, concurrently (at most `concurrency`
in flight): the calls are those of walking the cursor, but the waits overlap.
A page without a page count falls back to following ``links.next`` verbatim
(Harvest's cursor is opaque) until it is null; a link that leaves the API's
origin is refused rather than sent our token.
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

    async def rest(self, path: str, params: dict[str, str], first: Json) -> list[Json]:
        """Pages 2..N of the listing whose first page is `first`, fetched concurrently."""
        pages = first.get("total_pages")
        if next_link(first) is None:
            return []
        if not isinstance(pages, int) or pages < 2:  # no page count: walk the cursor
            return await self._follow(first)
        query = {**params, "per_page": str(self._page_size)}
        return await self.bounded(
            [self._page(path, {**query, "page": str(n)}) for n in range(2, pages + 1)]
        )

    async def all(self, path: str, key: str, params: dict[str, str]) -> list[Json]:
        """Every row of a listing."""
        first = await self.first(path, params)
        pages = [first, *await self.rest(path, params, first)]
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
