"""Canonical events appended to the firm's stream by the product's own journal.

The subscription bench must feed the gateway exactly what a governed
transition commits, so it does not write stream entries itself: it opens one
(finished) operation and commits each event with `OperationJournal.commit` —
the same code, the same entry fields and CloudEvent record as the outbox of
every step. Each event is a `time.approved` whose one time entry id is a tag
(``primer-3``, ``bench-1234``, ``end-3``) and whose `time` is the moment of
publishing: that is what the subscribers measure their latency against.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from adapters.store.journal import OperationJournal
from domain.events import TimeApproved, event_id
from domain.ids import EngagementKey
from domain.operations import Commit, Operation, OperationStatus

__all__ = ["Publisher", "bench_keys"]


def bench_keys(count: int) -> list[str]:
    """The engagement keys the bench's events are about (none of the demo firm's)."""
    return [f"ENG-2097-{n:05d}" for n in range(count)]


class Publisher:
    """Appends tagged events to the stream under `prefix`, one atomic commit each."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._journal = OperationJournal(redis, prefix)
        self._stream = self._journal.keys.events
        self._run = uuid.uuid4().hex
        self._operation = f"bench-publisher-{self._run}"

    async def open(self) -> None:
        """The operation every event is committed under; finished at once, so no replica
        ever tries to resume it."""
        await self._journal.open_operation(
            Operation(
                id=self._operation,
                kind="benchPublish",
                engagement_key=None,
                input={},
                fingerprint=self._run,
                actor="bench",
                role=None,
                correlation_id=None,
                created_at=datetime.now(UTC),
            )
        )
        await self._journal.set_status(self._operation, OperationStatus.SUCCEEDED)

    async def publish(self, subject: str, tag: str) -> float:
        """Commit one event; its publish time (epoch seconds, as its `time` says)."""
        published = datetime.now(UTC)
        event = TimeApproved(
            id=event_id(self._run, tag),
            subject=EngagementKey(subject),
            time=published,
            actor="bench",
            time_entry_ids=[tag],
            hours="1.00",
        )
        await self._journal.commit(self._operation, step=None, commit=Commit(events=(event,)))
        return published.timestamp()

    async def last_cursor(self) -> str:
        """The stream entry id of the newest event (the cursor after it)."""
        newest: list[Any] = list(await self._redis.xrevrange(self._stream, count=1) or [])
        if not newest:
            raise RuntimeError("the stream is empty")
        cursor = newest[0][0]
        return cursor.decode() if isinstance(cursor, bytes) else str(cursor)
