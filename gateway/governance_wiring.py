"""Wiring the governed transitions: store, runner, operation kinds, processor, background loops.

`Governed.start()` runs in the app's lifespan: it resumes the operations a
previous process left incomplete (after a crash), then keeps two loops going -
the event processor (``opportunity.won`` starts the activation saga) and a
periodic sweep that resumes operations whose runner died (its lease lapsed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from redis.asyncio import Redis

from adapters.store import RedisGovernanceStore
from domain.catalog import ServiceCatalog
from domain.observability import MetricsSink
from gateway.config import Settings
from workflows.activation import Activation
from workflows.billing import GenerateInvoice, PostInvoice, RecordPayment
from workflows.compensation import compensations
from workflows.deadletters import DeadLetters
from workflows.delivery import (
    AcceptMilestone,
    ApproveExpenses,
    ApproveTime,
    AssignResource,
    RejectTime,
)
from workflows.exceptions import ResolveException
from workflows.governance import Governance
from workflows.inbound_win import SyncWin
from workflows.operations import OperationKind, OperationRunner
from workflows.processors import Processor
from workflows.reference import ReferenceData
from workflows.systems import Systems
from workflows.transitions import Transitions
from workflows.win import CloseWin

__all__ = ["Governed", "build_governed"]

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Governed:
    governance: Governance
    runner: OperationRunner
    processor: Processor
    store: RedisGovernanceStore
    resume_interval_s: float
    run_processor: bool = True
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Never fails for a store that is down: the loops retry until it answers."""
        if self.run_processor:
            self._tasks.append(asyncio.create_task(self.processor.run_forever()))
        self._tasks.append(asyncio.create_task(self._sweep()))

    async def _sweep(self) -> None:
        while not self._stopping.is_set():
            try:
                resumed = await self.runner.resume_incomplete()
                if resumed:
                    logger.info("resumed %d incomplete operation(s)", resumed)
            except Exception:
                logger.warning("resuming incomplete operations failed; will retry", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.resume_interval_s)

    async def stop(self) -> None:
        """Ask the loops to stop at their next boundary (cancelling a store call midway can
        wedge its connection); cancel only what does not stop within a few seconds."""
        self._stopping.set()
        self.processor.stopping.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=5.0)
            for task in late:
                task.cancel()
        self._tasks.clear()
        await self.runner.drain()


def build_governed(
    settings: Settings,
    systems: Systems,
    redis: Redis,
    reference: ReferenceData,
    catalog: ServiceCatalog,
    metrics: MetricsSink,
) -> Governed:
    store = RedisGovernanceStore(
        redis, settings.redis_prefix, retention_s=settings.operation_retention_s
    )
    kinds: list[OperationKind] = [
        CloseWin(systems, catalog, settings.min_free_percent),
        SyncWin(CloseWin(systems, catalog, settings.min_free_percent)),  # a CRM-side win
        Activation(systems, catalog),
        AssignResource(systems, settings.over_allocation_threshold_percent),
        ApproveTime(systems),
        RejectTime(systems),
        ApproveExpenses(systems),
        AcceptMilestone(systems),
        GenerateInvoice(systems, store, settings.closed_through),
        PostInvoice(systems, store),
        RecordPayment(systems),
        ResolveException(store),
    ]
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    runner = OperationRunner(
        store=store,
        kinds={kind.name: kind for kind in kinds},
        metrics=metrics,
        holder=holder,
        clock=_now,
        step_attempts=settings.step_attempts,
        backoff_base_s=settings.step_backoff_s,
        lease_ms=settings.lease_ms,
    )
    transitions = Transitions(
        store=store,
        runner=runner,
        metrics=metrics,
        clock=_now,
        idempotency_ttl_s=settings.idempotency_ttl_s,
    )
    processor = Processor(
        source=store,
        runner=runner,
        reference=reference,
        consumer=holder,
        clock=_now,
        max_deliveries=settings.event_max_deliveries,
    )
    dead_letters = DeadLetters(
        store, runner, metrics, compensations(systems, store), event_replay=processor.replay
    )
    governance = Governance(
        systems=systems,
        catalog=catalog,
        store=store,
        runner=runner,
        transitions=transitions,
        dead_letter_queue=dead_letters,
        min_free_percent=settings.min_free_percent,
    )
    return Governed(
        governance=governance,
        runner=runner,
        processor=processor,
        store=store,
        resume_interval_s=settings.resume_interval_s,
        run_processor=settings.event_processors,
    )
