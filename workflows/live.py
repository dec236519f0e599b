"""The live event hub: one reader per process tails the firm's stream and fans out.

Every replica runs one `EventHub`. Its reader tails the event stream (a
blocking read that returns as soon as an entry is written, by any replica)
and hands each event to the subscribers of this process whose filter takes
it. So an event published through replica A reaches a subscriber on replica
B, and a thousand subscribers cost one reader, not a thousand.

Each subscriber has a bounded queue. The reader never waits for a subscriber:
when one's queue is full it is cut off (its queue dropped, `SlowConsumer`
raised on its next read with the cursor to resume from), and the reader and
every other subscriber go on. A subscriber registers with the hub *before* it
replays from the store, so it receives every event past the hub's position
at registration; `Subscriber.start` is that position.

A second loop applies the stream's retention every `trim_interval_s`. Both
loops stop at their next boundary when `stop()` sets an event: a store call
is never cancelled midway (that can wedge its pooled connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from adapters.store.event_log import (
    CursorExpired,
    EventLog,
    InvalidCursor,
    LoggedEvent,
    Page,
    position,
)
from domain.errors import DomainError

__all__ = [
    "CursorExpired",
    "EventFeed",
    "EventHub",
    "EventLog",
    "InvalidCursor",
    "LiveFeedStopped",
    "LiveFeedUnavailable",
    "LoggedEvent",
    "Page",
    "SlowConsumer",
    "Subscriber",
    "position",
    "uncancelled",
]

T = TypeVar("T")

logger = logging.getLogger(__name__)

RETRY_S = 1.0  # wait after a failed read or trim before trying again


async def uncancelled(call: Awaitable[T]) -> T:
    """Await a store call that a cancellation of the caller (a client going away) must
    not interrupt: it runs to its end on its own, and its connection goes back clean."""
    task = asyncio.ensure_future(call)
    task.add_done_callback(_retrieve)
    return await asyncio.shield(task)


def _retrieve(task: asyncio.Future[T]) -> None:
    if not task.cancelled():
        task.exception()  # nobody may be waiting any more: never "never retrieved"


class EventFeed(Protocol):
    async def last_id(self) -> str: ...

    async def tail(self, after: str, *, count: int, block_ms: int, hub: str = "") -> Page: ...

    async def wake(self, hub: str) -> None: ...

    async def unwake(self, hub: str) -> None: ...

    async def trim(self, now: datetime, *, retention_s: int, maxlen: int) -> int: ...


class SlowConsumer(DomainError):
    """The subscriber fell `queue_size` events behind and was cut off."""

    def __init__(self, cursor: str, queue_size: int) -> None:
        super().__init__(
            f"this subscriber fell {queue_size} events behind and was cut off; "
            f"subscribe again with after: {cursor!r} to resume without losing any"
        )
        self.cursor = cursor


class LiveFeedStopped(DomainError):
    """The gateway is shutting down; resume from `cursor` on another replica."""

    def __init__(self, cursor: str) -> None:
        super().__init__(f"the gateway is shutting down; resume with after: {cursor!r}")
        self.cursor = cursor


class LiveFeedUnavailable(DomainError):
    """The hub has not reached the event store yet (it is down or the hub is starting)."""


@dataclass(eq=False, slots=True)
class Subscriber:
    """One subscription's registration. `delivered` is the cursor to resume from: the
    subscription moves it on as it delivers; it starts at the hub's position."""

    keys: frozenset[str] | None  # subjects taken (None: all)
    types: frozenset[str] | None  # event types taken (None: all)
    accept: Callable[[LoggedEvent], bool] | None  # any further condition
    queue: asyncio.Queue[LoggedEvent | None]
    start: str
    delivered: str = ""
    ended_by: type[Exception] | None = None  # SlowConsumer or LiveFeedStopped once ended

    def __post_init__(self) -> None:
        self.delivered = self.delivered or self.start

    def takes(self, logged: LoggedEvent) -> bool:
        return (self.types is None or logged.event.type in self.types) and (
            self.accept is None or self.accept(logged)
        )

    async def next(self) -> LoggedEvent:
        """The next event; raises once the hub ended this subscription."""
        logged = await self.queue.get()
        if logged is None:
            raise self._ending()
        return logged

    def pending(self) -> list[LoggedEvent]:
        """Every event already queued, without waiting (to coalesce a burst)."""
        found: list[LoggedEvent] = []
        while not self.queue.empty():
            logged = self.queue.get_nowait()
            if logged is None:
                raise self._ending()
            found.append(logged)
        return found

    def _ending(self) -> Exception:
        self.queue.put_nowait(None)  # every later read ends too
        if self.ended_by is LiveFeedStopped:
            return LiveFeedStopped(self.delivered)
        return SlowConsumer(self.delivered, self.queue.maxsize)


@dataclass(slots=True)
class EventHub:
    feed: EventFeed
    clock: Callable[[], datetime]
    queue_size: int = 1000
    retention_s: int = 604_800
    maxlen: int = 1_000_000
    trim_interval_s: float = 60.0
    block_ms: int = 2000  # a read returns at the first write (or wake), whatever this is
    batch: int = 500
    name: str = field(default_factory=lambda: uuid.uuid4().hex)  # wakes this hub's reader
    position: str | None = field(default=None, init=False)  # the last entry dispatched
    _keyed: dict[str, set[Subscriber]] = field(default_factory=dict, init=False)
    _unkeyed: set[Subscriber] = field(default_factory=set, init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def start(self) -> None:
        """Find the stream's end, then start tailing it and trimming it. Never fails for a
        store that is down: the reader keeps trying, subscribing fails clearly meanwhile."""
        try:
            self.position = await self.feed.last_id()
        except Exception:
            logger.warning("the event store is not answering; the live feed will retry")
        self._tasks.append(asyncio.create_task(self._read()))
        self._tasks.append(asyncio.create_task(self._trim()))

    async def stop(self) -> None:
        """Ask the loops to stop, wake the reader's waiting read, and end every subscriber;
        cancel only a loop that does not stop within a few seconds (the store is down)."""
        self._stopping.set()
        try:
            await self.feed.wake(self.name)
        except Exception:
            logger.warning("could not wake the live reader; it stops after its read")
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=5.0)
            for task in late:
                task.cancel()
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.feed.unwake(self.name)
        for sub in self._everyone():
            self._end(sub, LiveFeedStopped)

    @property
    def subscribers(self) -> int:
        return len(self._everyone())

    @property
    def backlog(self) -> int:
        """Events queued for this process's subscribers, not yet taken."""
        return sum(sub.queue.qsize() for sub in self._everyone())

    def _everyone(self) -> set[Subscriber]:
        return {*self._unkeyed, *(sub for group in self._keyed.values() for sub in group)}

    @contextlib.contextmanager
    def subscription(
        self,
        *,
        keys: frozenset[str] | None = None,
        types: frozenset[str] | None = None,
        accept: Callable[[LoggedEvent], bool] | None = None,
    ) -> Iterator[Subscriber]:
        """Register a subscriber for the block's duration."""
        if self._stopping.is_set():
            raise LiveFeedUnavailable("live events have stopped: this gateway is shutting down")
        if self.position is None:
            raise LiveFeedUnavailable("live events are not available yet: the event store is down")
        sub = Subscriber(keys, types, accept, asyncio.Queue(self.queue_size), self.position)
        for key in keys or ():
            self._keyed.setdefault(key, set()).add(sub)
        if keys is None:
            self._unkeyed.add(sub)
        try:
            yield sub
        finally:
            self._forget(sub)

    def _forget(self, sub: Subscriber) -> None:
        self._unkeyed.discard(sub)
        for key in sub.keys or ():
            group = self._keyed.get(key)
            if group is not None:
                group.discard(sub)
                if not group:
                    del self._keyed[key]

    def _end(self, sub: Subscriber, why: type[Exception]) -> None:
        """Cut a subscriber off: drop what it had queued, wake it with the end."""
        self._forget(sub)
        sub.ended_by = why
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)

    def dispatch(self, page: Page) -> None:
        """Hand a page of the stream to the subscribers that take its events (no await:
        nobody registers halfway through)."""
        for logged in page.events:
            self.position = logged.cursor
            subject = logged.event.subject
            keyed = self._keyed.get(subject, ()) if subject else ()
            for sub in [*self._unkeyed, *keyed]:
                if not sub.takes(logged):
                    continue
                try:
                    sub.queue.put_nowait(logged)
                except asyncio.QueueFull:
                    logger.info("cut off a slow subscriber at %s", sub.delivered)
                    self._end(sub, SlowConsumer)
        if page.last is not None:
            self.position = page.last

    async def _read(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.position is None:
                    self.position = await self.feed.last_id()
                page = await self.feed.tail(
                    self.position, count=self.batch, block_ms=self.block_ms, hub=self.name
                )
            except Exception:
                logger.warning("reading the event stream failed; retrying", exc_info=True)
                await self._pause(RETRY_S)
                continue
            self.dispatch(page)

    async def _trim(self) -> None:
        while not self._stopping.is_set():
            try:
                removed = await self.feed.trim(
                    self.clock(), retention_s=self.retention_s, maxlen=self.maxlen
                )
                if removed:
                    logger.info("trimmed %d event(s) past retention", removed)
            except Exception:
                logger.warning("trimming the event stream failed; will retry", exc_info=True)
            await self._pause(self.trim_interval_s)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
