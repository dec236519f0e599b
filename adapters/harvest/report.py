"""The Uninvoiced report, kept for a while, read once at a time, served stale when out of quota.

Harvest's Reports API allows 100 calls per 15 minutes per token, and WIP is
asked for by every request that shows financials: read afresh each time, the
report would be refused (429) after some 90 dashboard loads until the 15
minutes are over. So the adapter keeps the last full report (every
project's row, for the window it asked) and serves WIP from it:

* Freshness. A report is served for ``ttl_s`` after its read started, on the
  adapter's injectable clock, and only for the window it was read for (the
  365 days to today: a new day needs a new read). WIP may thus be up to
  ``ttl_s`` old. ``ttl_s <= 0`` keeps nothing: every read asks Harvest.
* Invalidation. `invalidate` makes the report kept (and any read already in
  flight) unfit to serve: the next read asks Harvest again. The adapter calls
  it after approving time; whoever changes what is uninvoiced elsewhere
  (posting an invoice) calls the adapter's ``invalidate_uninvoiced``.
* Single flight. Reads at the same moment share one report read (an asyncio
  task); a reader cancelled while waiting does not cancel it. A failed read
  is not remembered and fails every reader waiting on it.
* Quota. When the report's call budget has no slot within the policy's
  timeout (`QuotaExhausted`, raised before anything is sent), the read
  serves the last report kept instead, however old or invalidated, even for
  an earlier window; with none kept, the error stands. A stale WIP is more
  use to a dashboard than none; the next read after a slot frees is fresh.

The report belongs to one adapter instance (no module-level state).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

from adapters.harvest.throttle import QuotaExhausted
from adapters.harvest.wire import Json

__all__ = ["DEFAULT_REPORT_TTL_S", "ReportWindow", "UninvoicedReport"]

DEFAULT_REPORT_TTL_S = 60.0

ReportWindow = tuple[str, str]  # (from, to), as sent: YYYYMMDD
_ReadKey = tuple[ReportWindow, int]  # a window, and the invalidations before the read


@dataclass(frozen=True, slots=True)
class _Report:
    window: ReportWindow
    rows: tuple[Json, ...]
    read_at: float  # when its read started
    generation: int  # invalidations before its read started


class UninvoicedReport:
    """The last Uninvoiced report read, served for `ttl_s` (see the module docstring)."""

    def __init__(
        self,
        read: Callable[[ReportWindow], Awaitable[Sequence[Json]]],
        *,
        ttl_s: float = DEFAULT_REPORT_TTL_S,
        clock: Callable[[], float],
    ) -> None:
        self._read = read
        self._ttl_s = ttl_s
        self._clock = clock
        self._last: _Report | None = None
        self._generation = 0
        self._reads: dict[_ReadKey, asyncio.Task[_Report]] = {}  # in flight, to join

    async def rows(self, window: ReportWindow) -> Sequence[Json]:
        """Every row of the report for `window`: the one kept if fresh, else a shared read."""
        last = self._last
        if last is not None and self._fresh(last, window):
            return last.rows
        report = await asyncio.shield(self._shared_read(window))
        return report.rows

    def invalidate(self) -> None:
        """What is uninvoiced changed: the next read asks Harvest, not the report kept."""
        self._generation += 1  # reads in flight serve who waits on them, not later readers

    async def aclose(self) -> None:
        """Cancel reads still in flight (nobody is left to wait for them)."""
        tasks = set(self._reads.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def _fresh(self, report: _Report, window: ReportWindow) -> bool:
        return (
            report.window == window
            and report.generation == self._generation
            and self._clock() < report.read_at + self._ttl_s
        )

    def _shared_read(self, window: ReportWindow) -> asyncio.Task[_Report]:
        key = (window, self._generation)
        read = self._reads.get(key)
        if read is None:
            read = asyncio.create_task(self._read_once(*key), name="harvest-uninvoiced-report")
            self._reads[key] = read
            read.add_done_callback(partial(self._read_done, key))
        return read

    def _read_done(self, key: _ReadKey, read: asyncio.Task[_Report]) -> None:
        if self._reads.get(key) is read:
            del self._reads[key]
        if not read.cancelled():
            read.exception()  # retrieved here too, in case every reader was cancelled

    async def _read_once(self, window: ReportWindow, generation: int) -> _Report:
        started = self._clock()
        try:
            rows = await self._read(window)
        except QuotaExhausted:
            if self._last is None:
                raise
            return self._last  # stale, but better than no WIP at all
        report = _Report(window, tuple(rows), started, generation)
        if self._ttl_s > 0 and (self._last is None or started >= self._last.read_at):
            self._last = report
        return report
