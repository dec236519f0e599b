"""Inbound change sync: changes made directly in a vendor system become events, once.

Each system's feed (`workflows.inbound_feeds`, `workflows.inbound_win`) is polled
every `poll_interval_s` (0: not at all) for records modified after its watermark
minus `overlap_s`; webhooks hand record ids to `sync_records`, which reads exactly
those records now and treats them like a poll (without moving the watermark).

Exactly once, whatever the path: a record version already handled is skipped (the
overlap window re-reads the recent past on purpose), and every event names the
facts it announces; the store publishes an event only for facts nobody announced -
not our own transitions (whose commit marks the same facts), not the webhook, not
another replica (adapters/store/facts.py). A fact of a record that a transition of
ours is working on right now (an approval, a close-win, a payment still RUNNING in
the journal) is left for that transition to announce: the record is looked at again
next poll, and the watermark waits for it.

The first start of a feed (no watermark in the store) begins at now minus the overlap
and never replays the past: for feeds whose records can change after the fact (a
won deal edited, a completed milestone renamed, a payment deposited) the facts the
vendor already shows are marked as history first.

Never losing a change: the watermark moves only past records handled; a vendor that
fails mid-poll raises out of `poll_once` with nothing moved, and the loop logs it
and polls again (less often while the failures last, up to `_MAX_BACKOFF`
intervals apart). Loops stop through `stopping` (a store call is never cancelled
midway), within a few seconds at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.errors import InvalidInput
from domain.store import GovernanceStore
from domain.sync import SyncStore
from workflows.inbound_feeds import Feed, Seen
from workflows.inbound_flight import in_flight

__all__ = ["InboundSync", "SyncOutcome"]

logger = logging.getLogger(__name__)

_MAX_BACKOFF = 30  # a failing system is polled at most this many intervals apart


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    records: int = 0  # records read (changed, or asked for)
    published: int = 0  # events published (for Salesforce: governed wins run)
    deferred: int = 0  # records left for a transition still in flight


@dataclass(slots=True)
class InboundSync:
    feeds: Sequence[Feed]
    store: SyncStore
    journal: GovernanceStore  # where transitions in flight are found
    clock: Callable[[], datetime]
    poll_interval_s: float = 1.0
    overlap_s: float = 5.0
    prime: bool = False  # start every feed at `start()` even with polling off (webhooks push)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def systems(self) -> list[str]:
        return list(dict.fromkeys(feed.system for feed in self.feeds))

    def _feeds(self, system: str) -> list[Feed]:
        found = [feed for feed in self.feeds if feed.system == system]
        if not found:
            raise InvalidInput(f"no inbound sync for {system!r}: {', '.join(self.systems)}")
        return found

    # --- one poll, one webhook ---------------------------------------------------------------
    async def poll_once(self, system: str) -> SyncOutcome:
        """Read each of the system's feeds since its watermark and announce what is new."""
        total = SyncOutcome()
        for feed in self._feeds(system):
            watermark = await self._started(feed)
            since = watermark - timedelta(seconds=self.overlap_s)
            seen = await feed.changed_since(since)
            outcome, handled_to = await self._handle(feed, seen)
            if handled_to is not None and handled_to > watermark:
                await self.store.advance(feed.name, handled_to)
                watermark = handled_to
            await self.store.remember(
                feed.name, {}, forget_before=watermark - timedelta(seconds=2 * self.overlap_s)
            )
            total = _sum(total, outcome)
        return total

    async def sync_records(self, system: str, record_type: str, ids: Sequence[str]) -> int:
        """Read exactly these records now and announce what is new, as a poll would (a webhook
        named them); returns how many were read. The watermark is left alone."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        name = record_type.lower()
        feed = next((f for f in self._feeds(system) if name in f.names), None)
        if feed is None:
            raise InvalidInput(f"{system} {record_type!r} records are not synced")
        if not wanted:
            return 0
        await self._started(feed)
        seen = await feed.read(name, wanted)
        await self._handle(feed, seen)
        return len(seen)

    async def _started(self, feed: Feed) -> datetime:
        """The feed's watermark; on its first start, now minus the overlap (history marked)."""
        watermark = await self.store.watermark(feed.name)
        if watermark is not None:
            return watermark
        start = self.clock() - timedelta(seconds=self.overlap_s)
        watermark = await self.store.begin(feed.name, start, await feed.history())
        logger.info("inbound sync of %s starts at %s", feed.name, watermark.isoformat())
        return watermark

    async def _handle(
        self, feed: Feed, seen: Sequence[Seen]
    ) -> tuple[SyncOutcome, datetime | None]:
        """Announce the new facts of `seen`; returns the outcome and the version up to which
        every record is handled (None when none is)."""
        records = sorted(seen, key=lambda s: (s.version, s.key))
        handled = await self.store.versions(feed.name, [s.key for s in records])
        fresh = [s for s in records if s.key not in handled or handled[s.key] < s.version]
        candidates = [c for s in fresh for c in s.candidates]
        marks = await self.store.marks([c.fact for c in candidates])
        unannounced = [c for c in candidates if c.fact not in marks]
        busy = await in_flight(self.journal) if unannounced else frozenset()
        deferred = {c.record for c in unannounced if c.touches in busy}
        announced = await feed.announce([c for c in unannounced if c.record not in deferred])
        deferred |= announced.deferred
        done = {s.key: s.version for s in fresh if s.key not in deferred}
        await self.store.remember(feed.name, done, forget_before=None)
        first_waiting = min((s.version for s in fresh if s.key in deferred), default=None)
        settled = [s.version for s in records if first_waiting is None or s.version < first_waiting]
        outcome = SyncOutcome(len(records), announced.published, len(deferred))
        return outcome, max(settled, default=None)

    # --- the loops ---------------------------------------------------------------------------
    def start(self) -> None:
        """One poll loop per system; with polling off (`poll_interval_s` 0) but `prime`
        set, one task that starts every feed's watermark instead. A feed started lazily by
        the first webhook would take the change that webhook announces for history."""
        if self._tasks:
            return
        self.stopping.clear()
        if self.poll_interval_s > 0:
            self._tasks = [asyncio.create_task(self._loop(system)) for system in self.systems]
        elif self.prime:
            self._tasks = [asyncio.create_task(self._prime())]

    async def _prime(self) -> None:
        pending = list(self.feeds)
        while pending and not self.stopping.is_set():
            try:
                await self._started(pending[0])
                pending.pop(0)
                continue
            except asyncio.CancelledError:
                raise
            except Exception:  # the system is down: try again shortly
                logger.warning("starting the inbound sync of %s failed", pending[0].name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 1.0)

    async def _loop(self, system: str) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                outcome = await self.poll_once(system)
                if outcome.published or outcome.deferred:
                    logger.info("inbound sync of %s: %s", system, outcome)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:  # an outage: nothing moved; the next poll reads it all again
                failures += 1
                logger.warning(
                    "inbound sync of %s failed (%d in a row); polling again",
                    system,
                    failures,
                    exc_info=failures == 1,
                )
            pause = self.poll_interval_s * min(2**failures, _MAX_BACKOFF)  # an outage: slower
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), pause)

    async def stop(self) -> None:
        """Ask the loops to stop after their current poll; cancel only what outstays 5 s."""
        self.stopping.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=5.0)
            for task in late:
                task.cancel()
        self._tasks = []


def _sum(a: SyncOutcome, b: SyncOutcome) -> SyncOutcome:
    return SyncOutcome(a.records + b.records, a.published + b.published, a.deferred + b.deferred)
