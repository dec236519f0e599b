"""The firm's event stream, read side: replay after a cursor, tail for the live hub, retention.

A cursor is the stream entry id of an event (``"1764109212345-0"``). Ids only
grow, so a cursor says "everything up to here was seen": a replay reads the
entries after it (exclusive), in pages.

Retention (`trim`) drops entries older than `retention_s` (XTRIM MINID) and
beyond `maxlen` (XTRIM MAXLEN). Both trims are exact, not ``~``: fakeredis
ignores approximate trimming, and a trim that runs once a minute gains nothing
from it. After a trim that removed something the stream's *floor* is recorded
in a key of its own: the first id still kept (the last generated id when the
stream is left empty). A cursor below the floor may have missed trimmed
entries and is refused as expired; without a floor (a stream never trimmed)
every cursor up to the newest entry is good. The floor only ever rises, so
replicas trimming at the same time cannot lower it. The audit streams are
never trimmed: nothing here touches them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError, WatchError

from adapters.store.journal import text
from adapters.store.keys import StoreKeys
from domain.errors import InvalidInput
from domain.events import Event, parse_event

__all__ = [
    "CursorExpired",
    "EventLog",
    "InvalidCursor",
    "LoggedEvent",
    "Page",
    "position",
]

logger = logging.getLogger(__name__)

_CURSOR = re.compile(r"^(\d{1,20})-(\d{1,20})$")
_MAX_PART = 2**64 - 1
_START = "0-0"


class InvalidCursor(InvalidInput):
    """Not a cursor of this stream: malformed, or ahead of its newest entry."""


class CursorExpired(InvalidInput):
    """Retention has dropped entries after this cursor: replaying from it could miss some."""

    def __init__(self, cursor: str, floor: str) -> None:
        super().__init__(
            f"cursor {cursor} is older than the event log keeps (its oldest cursor is {floor}); "
            "read the current state and subscribe without a cursor"
        )
        self.floor = floor


def position(cursor: str) -> tuple[int, int]:
    """The (milliseconds, sequence) of a cursor, for ordering; InvalidCursor when malformed."""
    match = _CURSOR.match(cursor)
    if match is None or max(int(match[1]), int(match[2])) > _MAX_PART:
        raise InvalidCursor(
            f"not a cursor: {cursor[:60]!r} (expected a stream entry id such as 1764109212345-0)"
        )
    return int(match[1]), int(match[2])


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as the stream holds it: its cursor, the parsed event and the CloudEvent."""

    cursor: str
    at: tuple[int, int]  # position(cursor)
    event: Event
    record: dict[str, Any]  # the CloudEvent JSON object as stored


@dataclass(frozen=True, slots=True)
class Page:
    """Entries read in one go. `last` is the id of the last entry read, parsed or not (a
    record that does not parse is skipped, never re-read); None when nothing was read."""

    events: tuple[LoggedEvent, ...]
    last: str | None
    read: int  # entries read, skipped ones included


def _wanted(fields: Any, subjects: frozenset[str] | None, types: frozenset[str] | None) -> bool:
    """Whether an entry may match, judged by the fields written beside its record (so a
    replay parses only what it may send); an entry without them is parsed and judged."""
    subject, kind = text(fields.get("subject")), text(fields.get("type"))
    return (subjects is None or subject is None or subject in subjects) and (
        types is None or kind is None or kind in types
    )


def _decode(
    entries: Sequence[Any],
    subjects: frozenset[str] | None = None,
    types: frozenset[str] | None = None,
) -> Page:
    events: list[LoggedEvent] = []
    last = None
    for entry_id, fields in entries:
        last = text(entry_id) or ""
        if not _wanted(fields or {}, subjects, types):
            continue
        try:
            record = json.loads(text((fields or {}).get("record")) or "")
            events.append(LoggedEvent(last, position(last), parse_event(record), record))
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            logger.warning("skipping unreadable event %s on the live feed: %s", last, exc)
    return Page(tuple(events), last, len(entries))


class EventLog:
    """Reads the event stream under one key prefix, and applies its retention."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self.keys = StoreKeys(prefix)

    async def last_id(self) -> str:
        """The newest entry's id ("0-0" for an empty stream): where a live tail starts."""
        newest: list[Any] = list(await self._client.xrevrange(self.keys.events, count=1) or [])
        return (text(newest[0][0]) or _START) if newest else _START

    async def floor(self) -> str | None:
        """The smallest cursor retention still honours; None while nothing was trimmed."""
        return text(await self._client.get(self.keys.events_floor))

    async def check_cursor(self, cursor: str) -> None:
        """InvalidCursor when `cursor` is malformed or ahead of the stream (a cursor of
        another store, or of a store that was reset); CursorExpired below the floor."""
        at = position(cursor)
        floor = await self.floor()
        if floor is not None and at < position(floor):
            raise CursorExpired(cursor, floor)
        if at > position(await self._last_generated()):
            raise InvalidCursor(f"cursor {cursor} is ahead of the event log (was it reset?)")

    async def _last_generated(self) -> str:
        try:
            info: dict[str, Any] = await self._client.xinfo_stream(self.keys.events)
        except ResponseError:  # no such key: nothing was ever published
            return _START
        return text(info.get("last-generated-id")) or _START

    async def read_after(
        self,
        cursor: str,
        count: int,
        *,
        subjects: frozenset[str] | None = None,
        types: frozenset[str] | None = None,
    ) -> Page:
        """Up to `count` entries after `cursor`, oldest first, of which those about
        `subjects` and of `types` are parsed (None: all); CursorExpired when retention
        dropped entries after it (checked in the same transaction as the read)."""
        at = position(cursor)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.get(self.keys.events_floor)
            pipe.xrange(self.keys.events, min=f"({cursor}", count=count)
            raw_floor, entries = await pipe.execute()
        floor = text(raw_floor)
        if floor is not None and at < position(floor):
            raise CursorExpired(cursor, floor)
        return _decode(entries or [], subjects, types)

    async def tail(self, after: str, *, count: int, block_ms: int, hub: str = "") -> Page:
        """Entries after `after`, waiting up to `block_ms` for the first (XREAD BLOCK: on the
        embedded store too, where fakeredis wakes the reader on the write). `wake(hub)` ends
        the wait at once: the read watches that hub's wake key too."""
        streams: dict[Any, Any] = {self.keys.events: after}
        if hub:
            streams[self.keys.events_wake(hub)] = _START
        answer: Any = await self._client.xread(streams, count=count, block=block_ms)
        entries: list[Any] = []
        for stream, found in answer or []:
            if text(stream) == self.keys.events:
                entries.extend(found or [])
        return _decode(entries)

    async def wake(self, hub: str) -> None:
        """End `hub`'s waiting read (it is stopping): a store call is never cancelled."""
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xadd(self.keys.events_wake(hub), {"stop": "1"})
            pipe.expire(self.keys.events_wake(hub), 60)  # gone even if the process dies now
            await pipe.execute()

    async def unwake(self, hub: str) -> None:
        await self._client.delete(self.keys.events_wake(hub))

    async def trim(self, now: datetime, *, retention_s: int, maxlen: int) -> int:
        """Apply retention (`retention_s` 0: keep forever); returns how many entries went."""
        removed = 0
        if retention_s > 0:
            minid = f"{max(int((now.timestamp() - retention_s) * 1000), 0)}-0"
            removed += int(
                await self._client.xtrim(self.keys.events, minid=minid, approximate=False)
            )
        removed += int(await self._client.xtrim(self.keys.events, maxlen=maxlen, approximate=False))
        if removed:
            await self._raise_floor()
        return removed

    async def _raise_floor(self) -> None:
        oldest: list[Any] = list(await self._client.xrange(self.keys.events, count=1) or [])
        floor = (text(oldest[0][0]) or _START) if oldest else await self._last_generated()
        key = self.keys.events_floor
        for _ in range(20):
            async with self._client.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    if not await self._raises(pipe, key, floor):
                        await pipe.unwatch()  # type: ignore[no-untyped-call]
                        return
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(key, floor)
                    await pipe.execute()
                    return
                except WatchError:
                    continue
        logger.warning("could not record the event log's floor %s: too much contention", floor)

    @staticmethod
    async def _raises(pipe: Pipeline, key: str, floor: str) -> bool:
        current = text(await pipe.get(key))
        return current is None or position(floor) > position(current)
