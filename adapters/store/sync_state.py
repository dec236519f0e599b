"""`SyncStore` over Redis: the inbound sync's watermarks, the versions it handled, its facts.

Every write that has to agree with another process is an optimistic transaction
(WATCH, read, MULTI/EXEC), as in the journal, so it behaves the same on real Redis
and on the embedded fakeredis (no Lua): two replicas polling the same feed move its
watermark only forward, and of two paths announcing one fact exactly one publishes.

Keys (see adapters/store/keys.py): ``sync:{feed}`` a hash with the ``watermark``;
``sync:{feed}:seen`` record id -> the version last handled (ISO 8601, UTC), pruned
to what the overlap window can still re-read; ``fact:{fact}`` as in
adapters/store/facts.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from adapters.store import facts
from adapters.store.journal import optimistic, text
from adapters.store.keys import StoreKeys
from domain.events import Event

__all__ = ["RedisSyncState"]

_WATERMARK = "watermark"
_CHUNK = 500  # history facts per round trip


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _moment(value: Any) -> datetime | None:
    raw = text(value)
    return datetime.fromisoformat(raw) if raw else None


class RedisSyncState:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self.keys = StoreKeys(prefix)

    # --- watermarks ----------------------------------------------------------------------
    async def watermark(self, feed: str) -> datetime | None:
        return _moment(await self._client.hget(self.keys.sync(feed), _WATERMARK))

    async def begin(self, feed: str, watermark: datetime, history: Sequence[str]) -> datetime:
        for start in range(0, len(history), _CHUNK):
            async with self._client.pipeline(transaction=False) as pipe:
                for fact in history[start : start + _CHUNK]:
                    pipe.set(self.keys.fact(fact), facts.HISTORY, nx=True)
                await pipe.execute()
        await self._client.hsetnx(self.keys.sync(feed), _WATERMARK, _stamp(watermark))
        found = await self.watermark(feed)
        assert found is not None
        return found

    async def advance(self, feed: str, watermark: datetime) -> None:
        key = self.keys.sync(feed)

        async def body(pipe: Pipeline) -> None:
            current = _moment(await pipe.hget(key, _WATERMARK))
            if current is not None and current >= watermark:
                await pipe.unwatch()  # type: ignore[no-untyped-call]
                return
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.hset(key, _WATERMARK, _stamp(watermark))
            await pipe.execute()

        await optimistic(self._client, [key], body, f"watermark of {feed}")

    # --- versions handled ---------------------------------------------------------------------
    async def versions(self, feed: str, record_ids: Sequence[str]) -> dict[str, datetime]:
        if not record_ids:
            return {}
        values = await self._client.hmget(self.keys.sync_seen(feed), list(record_ids))
        return {
            record_id: moment
            for record_id, value in zip(record_ids, values, strict=True)
            if (moment := _moment(value)) is not None
        }

    async def remember(
        self, feed: str, versions: Mapping[str, datetime], *, forget_before: datetime | None
    ) -> None:
        key = self.keys.sync_seen(feed)
        if versions:
            await self._client.hset(key, mapping={k: _stamp(v) for k, v in versions.items()})
        if forget_before is None:
            return
        seen: dict[Any, Any] = await self._client.hgetall(key)
        stale = [
            text(record_id) or ""
            for record_id, value in seen.items()
            if (moment := _moment(value)) is not None and moment < forget_before
        ]
        if stale:
            await self._client.hdel(key, *stale)

    # --- facts ----------------------------------------------------------------------------------
    async def marks(self, names: Sequence[str]) -> dict[str, str]:
        if not names:
            return {}
        values = await self._client.mget([self.keys.fact(fact) for fact in names])
        return {
            fact: text(value) or ""
            for fact, value in zip(names, values, strict=True)
            if value is not None
        }

    async def publish_unmarked(self, events: Sequence[Event]) -> list[Event]:
        if not events:
            return []
        watched = facts.fact_keys(self.keys, events)

        async def body(pipe: Pipeline) -> list[Event]:
            marks = await facts.read_marks(pipe, self.keys, events)
            fresh = [e for e in events if not any(f in marks for f in e.facts())]
            if not fresh:
                await pipe.unwatch()  # type: ignore[no-untyped-call]
                return []
            pipe.multi()  # type: ignore[no-untyped-call]
            for event in fresh:
                facts.write_event(pipe, self.keys, event)
            await pipe.execute()
            return fresh

        return await optimistic(self._client, watched, body, "inbound events")
