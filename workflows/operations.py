"""The operation runner: every governed transition and saga runs through it.

An operation is a list of steps. Before a step runs, its attempt is journaled;
after it runs, its output and effects (events, audit, exceptions, claims) are
committed in one atomic write. A step therefore runs at least once and commits
exactly once; each step must be idempotent towards its system (external IDs,
idempotency headers, look-ups before create). Outcomes:

* every step committed -> SUCCEEDED, with the result the last step returned;
* a step raised `BusinessRuleViolation` -> REJECTED, with a business exception
  routed to its owner role (never retried);
* a technical failure outlived `step_attempts` -> DEAD_LETTERED, with a dead
  letter holding the full context; replaying it resumes at the failed step.

One runner holds an operation at a time (a lease in the store, renewed while
it runs); a request that finds the operation held waits for its outcome, and
takes it over if the holder died (its lease lapsed). Each run holds the lease
under a token of its own, and checks it still does before every step: a runner
whose lease lapsed (a stalled process) and was taken over stops after the step
it is in, instead of running the rest of the saga alongside the new holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.http import request_deadline
from domain.errors import BusinessRuleViolation
from domain.governance import AuditEntry, Role
from domain.observability import MetricsSink
from domain.operations import Commit, Operation, OperationStatus
from domain.store import ClaimConflict, GovernanceStore
from workflows.journal_context import StepContext
from workflows.operation_failures import dead_letter, describe, rejection, retryable
from workflows.operation_steps import OperationKind, Step, StepResult

__all__ = ["OperationKind", "OperationRunner", "Step", "StepResult"]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class OperationRunner:
    store: GovernanceStore
    kinds: dict[str, OperationKind]
    metrics: MetricsSink
    holder: str  # this process, as the lease holder
    clock: Clock = utc_now
    step_attempts: int = 3
    backoff_base_s: float = 0.2
    lease_ms: int = 10_000
    wait_timeout_s: float = 60.0
    _rng: random.Random = field(default_factory=random.Random)
    _runs: itertools.count[int] = field(default_factory=itertools.count)
    _running: set[asyncio.Task[Operation]] = field(default_factory=set)

    async def submit(self, operation: Operation) -> Operation:
        """Journal `operation` (or find the journaled one) and return its outcome."""
        journaled = await self.store.open_operation(operation)
        if journaled.status.finished:
            return journaled
        return await self.run(journaled.id)

    async def run(self, operation_id: str) -> Operation:
        """Run the operation if no one else does; else wait for its outcome."""
        deadline = asyncio.get_running_loop().time() + self.wait_timeout_s
        delay = 0.02
        while True:
            operation = await self._load(operation_id)
            if operation.status is not OperationStatus.RUNNING:
                return operation
            token = self._token()
            if await self.store.acquire_lease(operation_id, token, self.lease_ms):
                task = self._detached(operation_id, token)
                remaining = max(deadline - asyncio.get_running_loop().time(), 0.0)
                try:
                    operation = await asyncio.wait_for(asyncio.shield(task), remaining)
                except TimeoutError:
                    return await self._load(operation_id)  # still running: reported pending
                if operation.status is not OperationStatus.RUNNING:
                    return operation
                # lost the lease mid-way: wait for whoever holds it now
            if asyncio.get_running_loop().time() > deadline:
                return operation  # still running elsewhere: the caller reports it as pending
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def resume_incomplete(self, concurrency: int = 8) -> int:
        """Resume every RUNNING operation nobody holds (after a crash), `concurrency` at a
        time; returns how many were resumed. An id whose journal is gone is forgotten."""
        gate = asyncio.Semaphore(concurrency)

        async def one(operation_id: str) -> bool:
            async with gate:
                token = self._token()
                if not await self.store.acquire_lease(operation_id, token, self.lease_ms):
                    return False
                try:
                    await asyncio.shield(self._detached(operation_id, token))
                except KeyError:  # no journal (expired or deleted): nothing to resume
                    logger.warning("forgetting %s: its journal is gone", operation_id)
                    await self.store.forget_operation(operation_id)
                    return False
                return True

        ids = await self.store.incomplete_operations()
        return sum(await asyncio.gather(*(one(i) for i in ids)))

    def _token(self) -> str:
        """The lease holder of one run: this process, and which of its runs."""
        return f"{self.holder}:{next(self._runs)}"

    def _detached(self, operation_id: str, token: str) -> asyncio.Task[Operation]:
        """Run a held operation in a task of its own: it outlives the request that started it
        (a client that disconnects or times out does not cut a saga short), and it is not
        bound by that request's time budget - each vendor call keeps its own timeout."""
        context = contextvars.copy_context()
        context.run(request_deadline.set, None)
        task = asyncio.create_task(self._held_then_release(operation_id, token), context=context)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _held_then_release(self, operation_id: str, token: str) -> Operation:
        try:
            return await self._run_held(operation_id, token)
        finally:
            await self.store.release_lease(operation_id, token)

    async def drain(self) -> None:
        """Cancel operations still running in this process (shutdown); their journals keep
        them RUNNING, so the next process (or another replica) resumes them."""
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)

    async def _load(self, operation_id: str) -> Operation:
        operation = await self.store.get_operation(operation_id)
        if operation is None:
            raise KeyError(f"no operation {operation_id}")
        return operation

    async def _run_held(self, operation_id: str, token: str) -> Operation:
        done = asyncio.Event()
        renewer = asyncio.create_task(self._renew(operation_id, token, done))
        try:
            return await self._steps(operation_id, token)
        finally:
            done.set()  # never cancelled mid-call: a store call cut short can leave its
            await renewer  # connection (and the embedded store's lock) in a bad state

    async def _renew(self, operation_id: str, token: str, done: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), self.lease_ms / 3000)
                return
            if not await self._still_held(operation_id, token):
                logger.warning("lost the lease on %s; stopping after this step", operation_id)
                return

    async def _still_held(self, operation_id: str, token: str) -> bool:
        """Renew the lease; if it lapsed and nobody took it, take it again."""
        return await self.store.renew_lease(
            operation_id, token, self.lease_ms
        ) or await self.store.acquire_lease(operation_id, token, self.lease_ms)

    async def _steps(self, operation_id: str, token: str) -> Operation:
        operation = await self._load(operation_id)
        if operation.status is not OperationStatus.RUNNING:
            return operation
        kind = self.kinds[operation.kind]
        while True:  # the steps may depend on what earlier steps found: ask again each time
            steps = kind.steps(operation)
            pending = [i for i, step in enumerate(steps) if not operation.done(step.name)]
            if not pending:
                if operation.status is OperationStatus.RUNNING:  # all done before a crash
                    await self.store.set_status(operation_id, OperationStatus.SUCCEEDED)
                    operation = await self._load(operation_id)
                return operation
            if not await self._still_held(operation_id, token):
                logger.warning("%s is held by another runner now; leaving it", operation_id)
                return operation
            index = pending[0]
            finished = await self._step(operation, steps[index], last=index == len(steps) - 1)
            operation = await self._load(operation_id)
            if finished or operation.status is not OperationStatus.RUNNING:
                return operation

    async def _step(self, operation: Operation, step: Step, *, last: bool) -> bool:
        """Run one step to commit; True when the operation ended with it."""
        context = StepContext(operation=operation, step=step.name, now=self.clock())
        while True:
            attempt = await self.store.step_started(operation.id, step.name)
            if attempt > self.step_attempts:
                await self._dead_letter(operation, step, attempt - 1, None)
                return True
            try:
                outcome = await step.run(context)
            except BusinessRuleViolation as violation:
                await self._reject(operation, step.name, violation, context)
                return True
            except Exception as exc:  # technical: retried, then dead-lettered
                await self.store.step_failed(operation.id, step.name, describe(exc))
                self.metrics.saga_step(f"{operation.kind}.{step.name}", "failed")
                if not retryable(exc) or attempt >= self.step_attempts:
                    await self._dead_letter(operation, step, attempt, exc)
                    return True
                await asyncio.sleep(self._backoff(attempt))
                continue
            ends = last or outcome.result is not None or outcome.status is not None
            status = (outcome.status or OperationStatus.SUCCEEDED) if ends else None
            audit = AuditEntry(
                at=self.clock(),
                actor=operation.actor,
                role=operation.role,
                action=f"{operation.kind}.{step.name}",
                engagement_key=operation.engagement_key,
                correlation_id=operation.correlation_id,
                operation_id=operation.id,
                before=outcome.before,
                after=outcome.after if outcome.after is not None else outcome.output or None,
            )
            commit = outcome.commit
            effects = Commit(
                events=commit.events,
                audit=(*commit.audit, audit),
                exceptions=commit.exceptions,
                dead_letters=commit.dead_letters,
                claims=commit.claims,
                claim_owner=commit.claim_owner,
                release_claims=commit.release_claims,
                records=commit.records,
            )
            try:
                await self.store.commit(
                    operation.id,
                    step=step.name,
                    output=outcome.output,
                    commit=effects,
                    status=status,
                    result=outcome.result if ends else None,
                )
            except ClaimConflict as conflict:
                refusal = BusinessRuleViolation(
                    f"{conflict}; nothing was posted",
                    owner_role=Role.FINANCE,
                    code="ALREADY_BILLED",
                )
                await self._reject(operation, step.name, refusal, context)
                return True
            self.metrics.saga_step(f"{operation.kind}.{step.name}", "done")
            for raised in commit.exceptions:
                self.metrics.business_exception(raised.code, raised.owner_role)
            if ends:
                self.metrics.transition(operation.kind, (status or "").lower())
            return ends

    def _backoff(self, attempt: int) -> float:
        return float(self.backoff_base_s * (2 ** (attempt - 1)) * (0.5 + self._rng.random()))

    async def _reject(
        self,
        operation: Operation,
        step: str,
        violation: BusinessRuleViolation,
        context: StepContext,
    ) -> None:
        commit, result = rejection(operation, step, violation, context, self.clock())
        await self.store.commit(
            operation.id, step=None, commit=commit, status=OperationStatus.REJECTED, result=result
        )
        self.metrics.business_exception(violation.code, violation.owner_role)
        self.metrics.transition(operation.kind, "rejected")

    async def _dead_letter(
        self, operation: Operation, step: Step, attempts: int, exc: BaseException | None
    ) -> None:
        current = await self._load(operation.id)
        commit, result = dead_letter(current, step, attempts, exc, self.clock())
        await self.store.commit(
            operation.id,
            step=None,
            commit=commit,
            status=OperationStatus.DEAD_LETTERED,
            result=result,
        )
        for raised in commit.exceptions:
            self.metrics.business_exception(raised.code, raised.owner_role)
        self.metrics.dead_lettered(operation.kind)
        self.metrics.transition(operation.kind, "dead_lettered")
