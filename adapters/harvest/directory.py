"""The project directory: engagement key → Harvest projects, for a while.

Every read by engagement (and `create_time_entry`) needs the projects whose
``code`` is the engagement key, and Harvest can only tell by listing
``/v2/projects``. Without a directory that listing is made by every batch
read: twice in a query level that asks for time entries and uninvoiced work
at once, and again on every request. The directory remembers each listing.

Why it is safe to remember:

* What the adapter keeps of a project (its id, code, name and client
  currency) rarely changes: the id never does, and a code or a client's
  currency is set up once when the engagement starts. A remembered project
  can be wrong only if someone re-codes it or moves it to another client in
  Harvest, and then for at most the TTL.
* A key looked up and not found is remembered as absent, so an unknown key
  costs one listing per TTL, not one per request. That answer goes stale
  only when the engagement's project is created in Harvest; it is seen at
  most a TTL later.

A listing is complete, so it replaces what the directory knew: every code on
it is present (several projects may share one), every key remembered but not
on it becomes absent. Entries expire ``ttl_s`` after the listing that taught
them, on the adapter's injectable clock; ``ttl_s <= 0`` turns remembering off.

Reads at the same moment share one listing: the directory holds the listing
in flight (an asyncio task), and a read that needs keys the directory lacks
awaits that task instead of starting another, so two batch reads gathered
together cost one ``/v2/projects`` call. A read cancelled while waiting does
not cancel the listing others await; a failed listing is not remembered and
fails every read waiting on it. The directory belongs to one adapter
instance (no module-level state) and holds at most ``max_entries`` keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from adapters.harvest.mapping import ProjectRef

__all__ = ["DEFAULT_TTL_S", "MAX_ENTRIES", "ProjectDirectory"]

DEFAULT_TTL_S = 300.0
MAX_ENTRIES = 10_000

ByCode = Mapping[str, tuple[ProjectRef, ...]]


@dataclass(frozen=True, slots=True)
class _Entry:
    projects: tuple[ProjectRef, ...]  # empty: looked up and found absent
    expires_at: float


class ProjectDirectory:
    """Engagement key → the projects with that code (or known absence), each kept for `ttl_s`."""

    def __init__(
        self,
        list_projects: Callable[[], Awaitable[Sequence[ProjectRef]]],
        *,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float],
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._list_projects = list_projects
        self._ttl_s = ttl_s
        self._clock = clock
        self._max_entries = max(1, max_entries)
        self._entries: dict[str, _Entry] = {}
        self._listing: asyncio.Task[ByCode] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    async def projects(self, keys: Iterable[str]) -> list[ProjectRef]:
        """The projects coded with `keys`: in key order, each key's in listing order.

        Keys the directory lacks (or has let expire) cost one shared listing.
        """
        wanted = list(dict.fromkeys(keys))
        now = self._clock()
        found: dict[str, tuple[ProjectRef, ...]] = {}
        missing: list[str] = []
        for key in wanted:
            entry = self._entries.get(key)
            if entry is None or entry.expires_at <= now:
                missing.append(key)
            else:
                found[key] = entry.projects
        if missing:
            by_code = await asyncio.shield(self._shared_listing())
            for key in missing:
                found[key] = by_code.get(key, ())
            self._remember({key: found[key] for key in missing})
        return [project for key in wanted for project in found[key]]

    async def aclose(self) -> None:
        """Cancel a listing still in flight (nobody is left to wait for it)."""
        listing = self._listing
        if listing is not None:
            listing.cancel()
            await asyncio.wait({listing})

    def _shared_listing(self) -> asyncio.Task[ByCode]:
        if self._listing is None:
            self._listing = asyncio.create_task(self._list(), name="harvest-projects-listing")
            self._listing.add_done_callback(self._listing_done)
        return self._listing

    def _listing_done(self, listing: asyncio.Task[ByCode]) -> None:
        if self._listing is listing:
            self._listing = None
        if not listing.cancelled():
            listing.exception()  # retrieved here too, in case every reader was cancelled

    async def _list(self) -> ByCode:
        by_code: dict[str, tuple[ProjectRef, ...]] = {}
        for project in await self._list_projects():
            if project.code is not None:
                by_code[project.code] = (*by_code.get(project.code, ()), project)
        gone = {key: () for key in self._entries if key not in by_code}
        self._remember({**by_code, **gone})
        return by_code

    def _remember(self, projects: Mapping[str, tuple[ProjectRef, ...]]) -> None:
        if self._ttl_s <= 0:
            return
        expires_at = self._clock() + self._ttl_s
        for key, found in projects.items():
            self._entries.pop(key, None)  # re-insert: dict order is least recently seen first
            self._entries[key] = _Entry(found, expires_at)
        self._trim()

    def _trim(self) -> None:
        if len(self._entries) <= self._max_entries:
            return
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[key]
        while len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]
