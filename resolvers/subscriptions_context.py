"""What subscriptions need beyond a request's Context: the live feed, and fresh loaders.

A subscription runs for a long time on one context, so loaders built once
would serve data cached when it started. Each subscription operation gets a
`LiveContext` of its own (the transports make one per operation, never one
per connection), and `refresh()` swaps in fresh loaders and a fresh
reference-data memo before each snapshot it pushes.

`EngagementEntities` knows which legal entity each engagement belongs to (its
CRM opportunity's, as `Engagement.legalEntity` shows), for the
`legalEntities` event filter; it is shared by every subscriber of a process
and keeps what it learnt for `ttl_s`, one CRM call per batch of unknown keys.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Protocol

from domain.governance import BusinessException
from domain.ids import EngagementKey
from resolvers.context import Context
from resolvers.loaders import Loaders
from workflows.live import EventHub, EventLog
from workflows.reference import ReferenceData, RequestReference
from workflows.systems import Systems

__all__ = ["EngagementEntities", "ExceptionSource", "Live", "LiveContext"]


class ExceptionSource(Protocol):
    async def get_business_exception(self, exception_id: str) -> BusinessException | None: ...


class EngagementEntities:
    """Engagement key → legal entity code (None: the engagement names none, or is unknown)."""

    def __init__(
        self,
        systems: Systems,
        ttl_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_size: int = 50_000,
    ) -> None:
        self._systems = systems
        self._ttl_s = ttl_s
        self._clock = clock
        self._max_size = max_size
        self._known: dict[str, tuple[float, str | None]] = {}
        self._loading: dict[str, asyncio.Task[dict[str, str | None]]] = {}

    async def of(self, keys: Iterable[str]) -> dict[str, str | None]:
        wanted = set(keys)
        now = self._clock()
        found = {k: hit[1] for k in wanted if (hit := self._known.get(k)) and hit[0] > now}
        missing = sorted(wanted - found.keys() - self._loading.keys())
        if missing:
            task = asyncio.create_task(self._fetch(missing))
            task.add_done_callback(_retrieve)
            for key in missing:
                self._loading[key] = task
        for task in {self._loading[k] for k in wanted - found.keys() if k in self._loading}:
            # shielded: a subscriber that goes away does not fail the others' lookup
            loaded = await asyncio.shield(task)
            found.update((k, v) for k, v in loaded.items() if k in wanted)
        return {k: found.get(k) for k in wanted}

    async def _fetch(self, keys: list[str]) -> dict[str, str | None]:
        try:
            opportunities = await self._systems.crm.get_opportunities_by_engagement(
                [EngagementKey(k) for k in keys]
            )
        finally:
            for key in keys:
                self._loading.pop(key, None)
        entities: dict[str, str | None] = dict.fromkeys(keys)
        for opportunity in opportunities:
            if opportunity.engagement_key in entities:
                entities[opportunity.engagement_key] = opportunity.legal_entity
        if len(self._known) + len(keys) > self._max_size:
            self._known.clear()
        expires = self._clock() + self._ttl_s
        self._known.update((k, (expires, v)) for k, v in entities.items())
        return entities


def _retrieve(task: asyncio.Future[dict[str, str | None]]) -> None:
    if not task.cancelled():
        task.exception()


@dataclass(frozen=True, slots=True)
class Live:
    """The live side of the graph, built once per process by the composition root."""

    hub: EventHub
    log: EventLog  # replays after a cursor
    exceptions: ExceptionSource
    reference: ReferenceData
    entities: EngagementEntities


@dataclass(slots=True)
class LiveContext(Context):
    live: Live | None = None
    # Set once the operation's subscription is registered with the hub: from then on
    # nothing it asked for is missed (SSE answers request errors as plain HTTP until then).
    streaming: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def of(cls, context: Context, live: Live) -> LiveContext:
        """`context` (a request's, fresh) with the live feed."""
        values = {f.name: getattr(context, f.name) for f in fields(Context)}
        return cls(**values, live=live)

    def refresh(self) -> None:
        """Fresh loaders and reference memo: what loads next reads the systems again."""
        self.loaders = Loaders(self.systems, naive=self.options.naive)
        if self.live is not None:
            self.reference = RequestReference(self.live.reference)
