"""`GovernanceStore` over Redis: the journal plus the trails and queues it writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.store.journal import OperationJournal, text
from domain.events import Event, parse_event
from domain.governance import (
    AuditEntry,
    BusinessException,
    DeadLetter,
    DeadLetterStatus,
    ExceptionStatus,
    Role,
)
from domain.ids import EngagementKey
from domain.store import Delivery

__all__ = ["RedisGovernanceStore"]


class RedisGovernanceStore(OperationJournal):
    """Everything the governed transitions keep, under one key prefix."""

    def __init__(self, client: Redis, prefix: str, *, retention_s: int = 30 * 86400) -> None:
        super().__init__(client, prefix, retention_s=retention_s)
        self._redis = client

    async def audit_trail(
        self, engagement_key: EngagementKey | None, limit: int = 200
    ) -> list[AuditEntry]:
        stream = self.keys.engagement_audit(engagement_key) if engagement_key else self.keys.audit
        entries: list[Any] = list(await self._redis.xrevrange(stream, count=limit) or [])
        trail = [
            AuditEntry.model_validate_json(text(fields.get("entry")) or "{}").model_copy(
                update={"id": text(entry_id)}
            )
            for entry_id, fields in entries
        ]
        trail.reverse()
        return trail

    async def events(self, after: str = "0", count: int = 1000) -> list[tuple[str, Event]]:
        start = f"({after}" if after not in ("0", "-") else "-"
        entries: list[Any] = list(
            await self._redis.xrange(self.keys.events, min=start, count=count) or []
        )
        return [
            (text(entry_id) or "", parse_event(json.loads(text(fields.get("record")) or "{}")))
            for entry_id, fields in entries
        ]

    async def dead_letters(
        self, status: DeadLetterStatus | None = None, limit: int = 200
    ) -> list[DeadLetter]:
        ids: list[Any] = await self._redis.zrevrange(self.keys.dead_letters, 0, -1)
        letters: list[DeadLetter] = []
        for chunk_start in range(0, len(ids), 200):
            chunk = ids[chunk_start : chunk_start + 200]
            raws = await self._redis.mget([self.keys.dead_letter(text(i) or "") for i in chunk])
            for raw in raws:
                if raw is None:
                    continue
                letter = DeadLetter.model_validate_json(text(raw) or "")
                if status is None or letter.status is status:
                    letters.append(letter)
                    if len(letters) >= limit:
                        return letters
        return letters

    async def get_dead_letter(self, dead_letter_id: str) -> DeadLetter | None:
        raw = text(await self._redis.get(self.keys.dead_letter(dead_letter_id)))
        return DeadLetter.model_validate_json(raw) if raw else None

    async def put_dead_letter(self, dead_letter: DeadLetter) -> None:
        await self._redis.set(self.keys.dead_letter(dead_letter.id), dead_letter.model_dump_json())
        await self._redis.zadd(
            self.keys.dead_letters, {dead_letter.id: dead_letter.failed_at.timestamp()}
        )

    async def business_exceptions(
        self,
        roles: Sequence[Role] | None = None,
        status: ExceptionStatus | None = ExceptionStatus.OPEN,
        limit: int = 200,
    ) -> list[BusinessException]:
        if status is ExceptionStatus.OPEN:
            ids: list[str] = []
            for role in roles or list(Role):
                members: list[Any] = await self._redis.zrevrange(
                    self.keys.open_exceptions(role), 0, limit - 1
                )
                ids.extend(text(m) or "" for m in members)
        else:
            members = await self._redis.zrevrange(self.keys.exceptions, 0, -1)
            ids = [text(m) or "" for m in members]
        found: list[BusinessException] = []
        for chunk_start in range(0, len(ids), 200):
            chunk = ids[chunk_start : chunk_start + 200]
            raws = await self._redis.mget([self.keys.exception(i) for i in chunk])
            for raw in raws:
                if raw is None:
                    continue
                exc = BusinessException.model_validate_json(text(raw) or "")
                if status is not None and exc.status is not status:
                    continue
                if roles and exc.owner_role not in roles:
                    continue
                found.append(exc)
        found.sort(key=lambda e: e.raised_at, reverse=True)
        return found[:limit]

    async def get_business_exception(self, exception_id: str) -> BusinessException | None:
        raw = text(await self._redis.get(self.keys.exception(exception_id)))
        return BusinessException.model_validate_json(raw) if raw else None

    async def resolve_business_exception(self, exception_id: str, resolution: str) -> bool:
        exc = await self.get_business_exception(exception_id)
        if exc is None or exc.status is ExceptionStatus.RESOLVED:
            return False
        resolved = exc.model_copy(
            update={"status": ExceptionStatus.RESOLVED, "resolution": resolution}
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.exception(exception_id), resolved.model_dump_json())
            pipe.zrem(self.keys.open_exceptions(exc.owner_role), exception_id)
            await pipe.execute()
        return True

    # --- consumer groups on the event stream ------------------------------------------------
    async def ensure_group(self, group: str, start: str = "$") -> None:
        """Create `group` on the event stream (from `start`) unless it exists."""
        try:
            await self._redis.xgroup_create(self.keys.events, group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_group(
        self, group: str, consumer: str, *, count: int = 100, block_ms: int | None = None
    ) -> list[Delivery]:
        """New entries for `consumer` (at-least-once: acknowledge each with `ack`)."""
        answer: Any = await self._redis.xreadgroup(
            group, consumer, {self.keys.events: ">"}, count=count, block=block_ms
        )
        return [self._delivery(entry_id, fields) for entry_id, fields in self._raw(answer)]

    async def claim_stale(
        self, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Delivery]:
        """Entries delivered to a consumer that never acknowledged them (it died or failed),
        with how many times each has now been delivered."""
        answer: Any = await self._redis.xautoclaim(
            self.keys.events, group, consumer, min_idle_ms, start_id="0-0", count=count
        )
        entries = self._raw([[self.keys.events, answer[1]]])
        if not entries:
            return []
        pending: list[Any] = await self._redis.xpending_range(
            self.keys.events,
            group,
            min=entries[0][0],
            max=entries[-1][0],
            count=len(entries),
            consumername=consumer,
        )
        counts = {text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        return [
            self._delivery(entry_id, fields, counts.get(entry_id, 1))
            for entry_id, fields in entries
        ]

    async def ack(self, group: str, *entry_ids: str) -> int:
        if not entry_ids:
            return 0
        return int(await self._redis.xack(self.keys.events, group, *entry_ids))

    @staticmethod
    def _raw(answer: Any) -> list[tuple[str, dict[Any, Any]]]:
        """(entry id, fields) of a stream answer, without entries trimmed while pending."""
        return [
            (text(entry_id) or "", fields)
            for _stream, entries in answer or []
            for entry_id, fields in entries or []
            if fields
        ]

    @staticmethod
    def _delivery(entry_id: str, fields: dict[Any, Any], deliveries: int = 1) -> Delivery:
        record = text(fields.get("record")) or ""
        try:
            event = parse_event(json.loads(record))
        except (ValueError, KeyError, TypeError) as exc:  # pydantic's errors are ValueErrors
            return Delivery(entry_id, record, None, f"{type(exc).__name__}: {exc}", deliveries)
        return Delivery(entry_id, record, event, None, deliveries)
