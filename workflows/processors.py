"""Internal processors of the event stream: what the product does when something happened.

The processor reads the firm's stream in a consumer group (at-least-once):
``opportunity.won`` starts the activation saga (one per engagement: a second
delivery finds the saga and does nothing), and change events drop stale
reference data. An entry is acknowledged only after it was handled; entries a
dead consumer left unacknowledged are claimed after `claim_idle_ms`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.events import Event, OpportunityWon
from domain.governance import SYSTEM_PRINCIPAL
from domain.operations import Operation
from workflows.activation import ACTIVATION, activation_id
from workflows.operations import OperationRunner
from workflows.reference import ReferenceData
from workflows.transitions import fingerprint

__all__ = ["ACTIVATION_GROUP", "EventSource", "Processor"]

logger = logging.getLogger(__name__)

ACTIVATION_GROUP = "activation"


class EventSource(Protocol):
    async def ensure_group(self, group: str, start: str = "$") -> None: ...

    async def read_group(
        self, group: str, consumer: str, *, count: int = 100, block_ms: int | None = None
    ) -> list[tuple[str, Event]]: ...

    async def claim_stale(
        self, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[tuple[str, Event]]: ...

    async def ack(self, group: str, *entry_ids: str) -> int: ...


@dataclass(slots=True)
class Processor:
    source: EventSource
    runner: OperationRunner
    reference: ReferenceData | None
    consumer: str
    clock: Callable[[], datetime]
    claim_idle_ms: int = 10_000  # an entry a dead consumer held this long is taken over
    poll_interval_s: float = 0.05  # idle wait between reads (no blocking reads: see run_forever)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _group_ready: bool = False

    async def start(self) -> None:
        await self.source.ensure_group(ACTIVATION_GROUP, start="0")
        self._group_ready = True

    async def run_once(self, *, block_ms: int | None = None) -> int:
        """Handle what is waiting (stale entries first); returns how many were handled."""
        entries = await self.source.claim_stale(
            ACTIVATION_GROUP, self.consumer, min_idle_ms=self.claim_idle_ms
        )
        entries += await self.source.read_group(ACTIVATION_GROUP, self.consumer, block_ms=block_ms)
        for entry_id, event in entries:
            await self.handle(event)
            await self.source.ack(ACTIVATION_GROUP, entry_id)
        return len(entries)

    async def run_forever(self) -> None:
        """Poll without blocking reads: a blocking XREADGROUP holds its connection (and
        cannot be cancelled cleanly at shutdown), and the embedded store has no real
        blocking; a short idle sleep costs at most `poll_interval_s` of latency. Stops when
        `stopping` is set (cancelling a store call midway can wedge its connection)."""
        while not self.stopping.is_set():
            try:
                if not self._group_ready:  # the store was down at start
                    await self.start()
                handled = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep consuming; the entry stays pending and is retried
                logger.warning("event processor failed; retrying", exc_info=True)
                handled = 0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), 1.0)
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), self.poll_interval_s)

    async def handle(self, event: Event) -> None:
        if self.reference is not None:
            await self.reference.on_event(event.type)
        if isinstance(event, OpportunityWon) and event.subject:
            await self.runner.submit(self.activation(event))

    def activation(self, event: OpportunityWon) -> Operation:
        assert event.subject is not None
        payload = {"engagement_key": event.subject}
        return Operation(
            id=activation_id(event.subject),
            kind=ACTIVATION,
            engagement_key=event.subject,
            input=payload,
            fingerprint=fingerprint(ACTIVATION, payload),
            actor=SYSTEM_PRINCIPAL.subject,
            role=SYSTEM_PRINCIPAL.primary_role,
            correlation_id=event.correlation_id,
            created_at=self.clock(),
        )
