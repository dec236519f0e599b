"""Internal processors of the event stream: what the product does when something happened.

The processor reads the firm's stream in a consumer group (at-least-once):
``opportunity.won`` starts the activation saga (one per engagement: a second
delivery finds the saga and does nothing), and change events drop stale
reference data. An entry is acknowledged only after it was handled; entries a
dead consumer left unacknowledged are claimed after `claim_idle_ms`.

An entry is never retried forever: one that does not parse (a poison record)
is dead-lettered at once, and one the group has delivered more than
`max_deliveries` times without an acknowledgement (its handling keeps failing,
or keeps killing its consumer) is dead-lettered with the last error seen here.
Either way it is acknowledged, so the group moves on; `replay` handles the
dead letter's event again once the cause is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.errors import InvalidInput
from domain.events import Event, OpportunityWon, event_id, parse_event
from domain.governance import SYSTEM_PRINCIPAL, DeadLetter
from domain.operations import Operation
from domain.store import Delivery
from workflows.activation import ACTIVATION, activation_id
from workflows.deadletters import EVENT_DEAD_LETTER
from workflows.operations import OperationRunner
from workflows.reference import ReferenceData
from workflows.transitions import fingerprint

__all__ = ["ACTIVATION_GROUP", "EventSource", "Processor"]

logger = logging.getLogger(__name__)

ACTIVATION_GROUP = "activation"
_LAST_ERRORS = 1000  # entries whose last handling error is remembered (for dead letters)


class EventSource(Protocol):
    async def ensure_group(self, group: str, start: str = "$") -> None: ...

    async def read_group(
        self, group: str, consumer: str, *, count: int = 100, block_ms: int | None = None
    ) -> list[Delivery]: ...

    async def claim_stale(
        self, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Delivery]: ...

    async def ack(self, group: str, *entry_ids: str) -> int: ...

    async def put_dead_letter(self, dead_letter: DeadLetter) -> None: ...


@dataclass(slots=True)
class Processor:
    source: EventSource
    runner: OperationRunner
    reference: ReferenceData | None
    consumer: str
    clock: Callable[[], datetime]
    claim_idle_ms: int = 10_000  # an entry a dead consumer held this long is taken over
    poll_interval_s: float = 0.05  # idle wait between reads (no blocking reads: see run_forever)
    max_deliveries: int = 5  # deliveries without an ack before the entry is dead-lettered
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _group_ready: bool = False
    _last_errors: dict[str, str] = field(default_factory=dict)

    async def start(self) -> None:
        await self.source.ensure_group(ACTIVATION_GROUP, start="0")
        self._group_ready = True

    async def run_once(self, *, block_ms: int | None = None) -> int:
        """Handle what is waiting (stale entries first); returns how many were handled.

        A failing entry stays pending (it comes back once idle for `claim_idle_ms`)
        and does not hold up the entries after it."""
        entries = await self.source.claim_stale(
            ACTIVATION_GROUP, self.consumer, min_idle_ms=self.claim_idle_ms
        )
        entries += await self.source.read_group(ACTIVATION_GROUP, self.consumer, block_ms=block_ms)
        for delivery in entries:
            if delivery.event is None:
                await self._give_up(delivery, delivery.error or "unreadable record")
            elif delivery.deliveries > self.max_deliveries:
                last = self._last_errors.get(delivery.entry_id, "its consumer never acknowledged")
                reason = f"delivered {delivery.deliveries} times without success; last: {last}"
                await self._give_up(delivery, reason)
            else:
                try:
                    await self.handle(delivery.event)
                except Exception as exc:  # retried on a later delivery, then dead-lettered
                    self._remember(delivery.entry_id, f"{type(exc).__name__}: {exc}")
                    logger.warning("handling event %s failed", delivery.entry_id, exc_info=True)
                    continue
                await self.source.ack(ACTIVATION_GROUP, delivery.entry_id)
            self._last_errors.pop(delivery.entry_id, None)
        return len(entries)

    async def _give_up(self, delivery: Delivery, reason: str) -> None:
        """Dead-letter the entry (with its record, for replay) and acknowledge it."""
        event = delivery.event
        letter_id = event_id(ACTIVATION_GROUP, delivery.entry_id, "dead-letter")
        await self.source.put_dead_letter(
            DeadLetter(
                id=letter_id,
                operation=EVENT_DEAD_LETTER,
                operation_id=f"event:{ACTIVATION_GROUP}:{delivery.entry_id}",
                step=event.type if event else None,
                engagement_key=event.subject if event else None,
                error=reason,
                error_type="PoisonEvent" if event is None else "UndeliverableEvent",
                system=None,
                attempts=delivery.deliveries,
                failed_at=self.clock(),
                correlation_id=event.correlation_id if event else None,
                actor=SYSTEM_PRINCIPAL.subject,
                context={
                    "group": ACTIVATION_GROUP,
                    "entry_id": delivery.entry_id,
                    "record": delivery.record,
                },
            )
        )
        await self.source.ack(ACTIVATION_GROUP, delivery.entry_id)
        logger.error("event %s dead-lettered: %s", delivery.entry_id, reason)

    def _remember(self, entry_id: str, error: str) -> None:
        self._last_errors.pop(entry_id, None)
        self._last_errors[entry_id] = error
        while len(self._last_errors) > _LAST_ERRORS:
            del self._last_errors[next(iter(self._last_errors))]

    async def replay(self, letter: DeadLetter) -> None:
        """Handle a dead-lettered event again (the dead-letter queue's replay)."""
        record = str(letter.context.get("record", ""))
        try:
            event = parse_event(json.loads(record))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(
                f"dead letter {letter.id} holds an event that cannot be read ({exc}); discard it"
            ) from exc
        await self.handle(event)

    async def run_forever(self) -> None:
        """Poll without blocking reads: a blocking XREADGROUP holds a pooled connection and
        cannot be cancelled cleanly at shutdown; a short idle sleep costs at most
        `poll_interval_s` of latency, which a saga taking seconds does not notice (the live
        hub, where latency matters, blocks on a wakeable read instead). Stops when
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
