"""The operation journal over Redis: operations, steps, atomic commits, leases.

`commit` uses optimistic locking (WATCH on the operation, the claimed inputs
and the facts its events announce, then MULTI/EXEC), so it behaves the same on
real Redis and on the embedded fakeredis (which has no Lua): a step is
committed once, with its events, audit entries, exceptions, dead letters and
claims, or not at all. An event whose facts were all announced already (the
inbound sync saw the change first) is left out (adapters/store/facts.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from adapters.store import facts
from adapters.store.keys import StoreKeys
from domain.operations import NO_EFFECTS, Commit, Operation, OperationStatus, StepRecord, StepStatus
from domain.store import ClaimConflict

__all__ = ["MAX_INTERRUPTIONS", "Contention", "OperationJournal", "optimistic", "text"]

_META = "meta"
_STEP = "step:"
_INTERRUPTED = "interrupted:"  # how often a step's runner died mid-attempt
# Interrupted attempts of a step that do not count against the runner's limit.
MAX_INTERRUPTIONS = 10
_MAX_WATCH_RETRIES = 50

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


def text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class Contention(RuntimeError):
    """An optimistic transaction kept losing to concurrent writers."""


async def optimistic(
    client: Redis, keys: list[str], body: Callable[[Pipeline], Awaitable[T]], what: str
) -> T:
    """Run `body` under WATCH of `keys` (it reads, then MULTI ... EXEC), again from the
    start whenever another writer touched a watched key in between; Contention when it
    keeps losing."""
    for _ in range(_MAX_WATCH_RETRIES):
        async with client.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(*keys)
                return await body(pipe)
            except WatchError:
                continue
    raise Contention(f"{what}: too much contention")


class OperationJournal:
    """Operations, their steps and the atomic commit of a step's effects."""

    def __init__(self, client: Redis, prefix: str, *, retention_s: int = 30 * 86400) -> None:
        self._client = client
        self.keys = StoreKeys(prefix)
        self._retention_s = retention_s

    async def _optimistic(
        self, keys: list[str], body: Callable[[Pipeline], Awaitable[T]], what: str
    ) -> T:
        return await optimistic(self._client, keys, body, what)

    # --- operations ----------------------------------------------------------------------
    async def open_operation(self, operation: Operation) -> Operation:
        key = self.keys.op(operation.id)
        meta = operation.model_copy(update={"steps": {}}).model_dump_json()
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, _META, meta)
            created, *_ = await pipe.execute()
        if created:
            await self._client.zadd(
                self.keys.running, {operation.id: operation.created_at.timestamp()}
            )
            return operation
        existing = await self.get_operation(operation.id)
        assert existing is not None
        return existing

    async def get_operation(self, operation_id: str) -> Operation | None:
        raw: dict[Any, Any] = await self._client.hgetall(self.keys.op(operation_id))
        return self._decode(raw)

    def _decode(self, raw: dict[Any, Any]) -> Operation | None:
        fields = {text(k) or "": text(v) or "" for k, v in raw.items()}
        meta = fields.get(_META)
        if not meta:
            return None
        operation = Operation.model_validate_json(meta)
        steps = {
            name[len(_STEP) :]: StepRecord.model_validate_json(value)
            for name, value in fields.items()
            if name.startswith(_STEP)
        }
        return operation.model_copy(update={"steps": steps})

    async def step_started(self, operation_id: str, step: str) -> int:
        """Journal an attempt of `step` before it runs; return the attempt number that counts
        against the runner's limit (the record's ``attempts`` counts every start).

        A step found STARTED was interrupted: its runner died (SIGKILL, OOM, a lost host) or
        was cancelled at shutdown before it recorded an outcome. That is no failure of the
        step, so the first `MAX_INTERRUPTIONS` interruptions use up no attempt: a gateway
        that crashes or is redeployed a few times mid-saga does not dead-letter a healthy
        saga. Beyond that they count, so a step that kills its process every time still ends
        in the dead-letter queue instead of crash-looping every replica.
        """
        key = self.keys.op(operation_id)

        async def body(pipe: Pipeline) -> int:
            raw = text(await pipe.hget(key, _STEP + step))
            current = StepRecord.model_validate_json(raw) if raw else None
            interrupted = int(text(await pipe.hget(key, _INTERRUPTED + step)) or 0)
            if current is not None and current.status is StepStatus.DONE:
                await pipe.unwatch()  # type: ignore[no-untyped-call]
                return current.attempts - min(interrupted, MAX_INTERRUPTIONS)
            if current is not None and current.status is StepStatus.STARTED:
                interrupted += 1
            attempts = (current.attempts if current else 0) + 1
            record = StepRecord(
                name=step, status=StepStatus.STARTED, attempts=attempts, updated_at=_now()
            )
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.hset(key, _STEP + step, record.model_dump_json())
            pipe.hset(key, _INTERRUPTED + step, interrupted)
            await pipe.execute()
            return attempts - min(interrupted, MAX_INTERRUPTIONS)

        return await self._optimistic([key], body, f"step {step} of {operation_id}")

    async def step_failed(self, operation_id: str, step: str, error: str) -> None:
        def change(record: StepRecord | None) -> StepRecord:
            attempts = record.attempts if record else 1
            return StepRecord(
                name=step,
                status=StepStatus.FAILED,
                attempts=attempts,
                error=error,
                updated_at=_now(),
            )

        await self._update_step(operation_id, step, change)

    async def reset_step(self, operation_id: str, step: str) -> None:
        """Give a failed step fresh attempts (a dead letter replayed)."""

        def change(record: StepRecord | None) -> StepRecord:
            error = record.error if record else None
            return StepRecord(
                name=step, status=StepStatus.FAILED, attempts=0, error=error, updated_at=_now()
            )

        await self._update_step(operation_id, step, change)
        await self._client.hdel(self.keys.op(operation_id), _INTERRUPTED + step)

    async def _update_step(
        self, operation_id: str, step: str, change: Callable[[StepRecord | None], StepRecord]
    ) -> StepRecord:
        key = self.keys.op(operation_id)

        async def body(pipe: Pipeline) -> StepRecord:
            raw = text(await pipe.hget(key, _STEP + step))
            current = StepRecord.model_validate_json(raw) if raw else None
            if current is not None and current.status is StepStatus.DONE:
                await pipe.unwatch()  # type: ignore[no-untyped-call]
                return current
            record = change(current)
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.hset(key, _STEP + step, record.model_dump_json())
            await pipe.execute()
            return record

        return await self._optimistic([key], body, f"step {step} of {operation_id}")

    async def set_status(
        self, operation_id: str, status: OperationStatus, result: dict[str, Any] | None = None
    ) -> None:
        key = self.keys.op(operation_id)

        async def body(pipe: Pipeline) -> None:
            operation = await self._meta(pipe, key)
            pipe.multi()  # type: ignore[no-untyped-call]
            self._write_status(pipe, operation, status, result)
            await pipe.execute()

        await self._optimistic([key], body, f"status of {operation_id}")

    async def _meta(self, pipe: Pipeline, key: str) -> Operation:
        raw = text(await pipe.hget(key, _META))
        if raw is None:
            raise KeyError(f"no operation at {key}")
        return Operation.model_validate_json(raw)

    def _write_status(
        self,
        pipe: Pipeline,
        operation: Operation,
        status: OperationStatus,
        result: dict[str, Any] | None,
    ) -> None:
        update: dict[str, Any] = {"status": status}
        if result is not None:
            update["result"] = result
        changed = operation.model_copy(update=update)
        key = self.keys.op(operation.id)
        pipe.hset(key, _META, changed.model_dump_json())
        if status is OperationStatus.RUNNING:
            pipe.zadd(self.keys.running, {operation.id: operation.created_at.timestamp()})
            pipe.persist(key)
        else:
            pipe.zrem(self.keys.running, operation.id)
            if status.finished:
                pipe.expire(key, self._retention_s)

    async def forget_operation(self, operation_id: str) -> None:
        """Drop an id from the running set (its journal is gone)."""
        await self._client.zrem(self.keys.running, operation_id)

    async def incomplete_operations(self) -> list[str]:
        members: list[Any] = await self._client.zrange(self.keys.running, 0, -1)
        return [text(m) or "" for m in members]

    # --- the atomic commit -----------------------------------------------------------------
    async def commit(
        self,
        operation_id: str,
        *,
        step: str | None,
        output: dict[str, Any] | None = None,
        commit: Commit = NO_EFFECTS,
        status: OperationStatus | None = None,
        result: dict[str, Any] | None = None,
    ) -> bool:
        key = self.keys.op(operation_id)
        claim_keys = [self.keys.claim(c) for c in (*commit.claims, *commit.release_claims)]
        watched = [key, *claim_keys, *facts.fact_keys(self.keys, commit.events)]

        async def body(pipe: Pipeline) -> bool:
            if step is not None and await self._step_done(pipe, key, step):
                await pipe.unwatch()  # type: ignore[no-untyped-call]
                return False
            operation = await self._meta(pipe, key)
            releasable = await self._check_claims(pipe, commit)
            marks = await facts.read_marks(pipe, self.keys, commit.events)
            pipe.multi()  # type: ignore[no-untyped-call]
            if step is not None:
                record = StepRecord(
                    name=step,
                    status=StepStatus.DONE,
                    attempts=await self._attempts(key, step),
                    output=output or {},
                    updated_at=_now(),
                )
                pipe.hset(key, _STEP + step, record.model_dump_json())
            self._write_commit(pipe, commit, releasable, marks)
            if status is not None:
                self._write_status(pipe, operation, status, result)
            await pipe.execute()
            return True

        return await self._optimistic(watched, body, f"commit of {operation_id}/{step}")

    async def _step_done(self, pipe: Pipeline, key: str, step: str) -> bool:
        raw = text(await pipe.hget(key, _STEP + step))
        return raw is not None and StepRecord.model_validate_json(raw).status is StepStatus.DONE

    async def _attempts(self, key: str, step: str) -> int:
        raw = text(await self._client.hget(key, _STEP + step))
        return StepRecord.model_validate_json(raw).attempts if raw else 1

    async def _check_claims(self, pipe: Pipeline, commit: Commit) -> list[str]:
        """Refuse claims held by someone else; return the releases that are ours to make."""
        if commit.claims:
            values = await pipe.mget([self.keys.claim(c) for c in commit.claims])
            taken = {
                c: owner
                for c, v in zip(commit.claims, values, strict=True)
                if (owner := text(v)) is not None and owner != commit.claim_owner
            }
            if taken:
                await pipe.unwatch()  # type: ignore[no-untyped-call]
                raise ClaimConflict(taken)
        if not commit.release_claims:
            return []
        values = await pipe.mget([self.keys.claim(c) for c in commit.release_claims])
        return [
            c
            for c, v in zip(commit.release_claims, values, strict=True)
            if text(v) == commit.claim_owner
        ]

    def _write_commit(
        self, pipe: Pipeline, commit: Commit, releasable: list[str], marks: dict[str, str]
    ) -> None:
        """Queue the commit's writes; an event whose facts other events announced already
        (`marks`, read under WATCH) is left out (see adapters/store/facts.py)."""
        for event in commit.events:
            if not facts.announced(event, marks):
                facts.write_event(pipe, self.keys, event)
        for entry in commit.audit:
            payload = {"entry": entry.model_dump_json()}
            pipe.xadd(self.keys.audit, payload)  # type: ignore[arg-type]
            if entry.engagement_key:
                pipe.xadd(self.keys.engagement_audit(entry.engagement_key), payload)  # type: ignore[arg-type]
        for exc in commit.exceptions:
            pipe.set(self.keys.exception(exc.id), exc.model_dump_json(), nx=True)
            pipe.zadd(self.keys.exceptions, {exc.id: exc.raised_at.timestamp()}, nx=True)
            pipe.zadd(
                self.keys.open_exceptions(exc.owner_role), {exc.id: exc.raised_at.timestamp()}
            )
        for letter in commit.dead_letters:
            pipe.set(self.keys.dead_letter(letter.id), letter.model_dump_json())
            pipe.zadd(self.keys.dead_letters, {letter.id: letter.failed_at.timestamp()})
        for claim in commit.claims:
            pipe.set(self.keys.claim(claim), commit.claim_owner or "")
        for claim in releasable:
            pipe.delete(self.keys.claim(claim))
        for name, value in commit.records.items():
            pipe.set(self.keys.record(name), value)

    # --- leases ----------------------------------------------------------------------------
    async def acquire_lease(self, operation_id: str, holder: str, ttl_ms: int) -> bool:
        taken = await self._client.set(self.keys.lease(operation_id), holder, nx=True, px=ttl_ms)
        return bool(taken)

    async def renew_lease(self, operation_id: str, holder: str, ttl_ms: int) -> bool:
        return await self._if_holder(operation_id, holder, renew_ms=ttl_ms)

    async def release_lease(self, operation_id: str, holder: str) -> None:
        await self._if_holder(operation_id, holder, renew_ms=None)

    async def _if_holder(self, operation_id: str, holder: str, *, renew_ms: int | None) -> bool:
        key = self.keys.lease(operation_id)

        async def body(pipe: Pipeline) -> bool:
            if text(await pipe.get(key)) != holder:
                await pipe.unwatch()  # type: ignore[no-untyped-call]
                return False
            pipe.multi()  # type: ignore[no-untyped-call]
            if renew_ms is None:
                pipe.delete(key)
            else:
                pipe.pexpire(key, renew_ms)
            await pipe.execute()
            return True

        try:
            return await self._optimistic([key], body, "lease")
        except Contention:
            return False

    # --- idempotency keys, claims, documents ---------------------------------------------------
    async def bind_idempotency_key(
        self, scope: str, key: str, operation_id: str, fingerprint: str, ttl_s: int
    ) -> tuple[str, str, bool]:
        name = self.keys.idempotency(scope, key)
        binding = json.dumps({"operation": operation_id, "fingerprint": fingerprint})
        if await self._client.set(name, binding, nx=True, ex=ttl_s):
            return operation_id, fingerprint, True
        raw = text(await self._client.get(name))
        if raw is None:  # expired in between: bind again
            return await self.bind_idempotency_key(scope, key, operation_id, fingerprint, ttl_s)
        bound = json.loads(raw)
        return str(bound["operation"]), str(bound["fingerprint"]), False

    async def unbind_idempotency_key(self, scope: str, key: str, operation_id: str) -> None:
        """Free a key whose request was refused before it started anything."""
        name = self.keys.idempotency(scope, key)
        raw = text(await self._client.get(name))
        if raw is not None and json.loads(raw)["operation"] == operation_id:
            await self._client.delete(name)

    async def claims(self, inputs: Sequence[str]) -> dict[str, str]:
        if not inputs:
            return {}
        values = await self._client.mget([self.keys.claim(c) for c in inputs])
        return {c: owner for c, v in zip(inputs, values, strict=True) if (owner := text(v))}

    async def get_record(self, name: str) -> str | None:
        return text(await self._client.get(self.keys.record(name)))

    async def put_record(self, name: str, value: str) -> None:
        await self._client.set(self.keys.record(name), value)
