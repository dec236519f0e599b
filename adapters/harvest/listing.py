"""Reading Harvest listings: pages by ``links.next``, and bounded concurrency.

A listing's first page is requested with the caller's filters and
``per_page``; every further page is the previous page's ``links.next``,
followed verbatim (Harvest's cursor is opaque) until it is null. A link that
leaves the API's origin is refused rather than sent our token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Sequence
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

    async def pages(self, path: str, params: dict[str, str]) -> AsyncGenerator[Json]:
        """Every page of a listing, lazily; close it to stop early."""
        query = {**params, "per_page": str(self._page_size)}
        page = decode(await self._http.request("GET", path, params=query))
        yield page
        while (link := next_link(page)) is not None:
            if urlsplit(link)[:2] != self._origin:
                raise MappingFailed(f"links.next leaves the API origin: {link}", system=SYSTEM)
            page = decode(await self._http.request("GET", link))
            yield page

    async def all(self, path: str, key: str, params: dict[str, str]) -> list[Json]:
        """Every row of a listing."""
        return [obj async for page in self.pages(path, params) for obj in rows(page, key)]

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
