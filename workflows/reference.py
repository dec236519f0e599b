"""Reference data (legal entities, rate cards, people), cached in the store.

Slow-changing lists are read from their system once per TTL and shared by
every request and replica through the cache; `invalidate` drops a list when
a change event (or our own write) says it moved. Within one request the lists
are memoised, so a hundred rows asking for their legal entity cost one cache
read at most.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domain.cache import KeyValueCache
from domain.models import LegalEntity, Person, RateCard
from workflows.systems import Systems

__all__ = ["INVALIDATED_BY", "ReferenceData", "ReferenceKind", "RequestReference"]


class ReferenceKind(StrEnum):
    LEGAL_ENTITIES = "legal-entities"
    RATE_CARDS = "rate-cards"
    PEOPLE = "people"


# Which change events make which cached list stale. The event stream's consumer
# calls `ReferenceData.on_event(type)` for every event it sees.
INVALIDATED_BY: dict[str, tuple[ReferenceKind, ...]] = {
    "legal_entity.changed": (ReferenceKind.LEGAL_ENTITIES,),
    "rate_card.changed": (ReferenceKind.RATE_CARDS,),
    "person.changed": (ReferenceKind.PEOPLE,),
    "resource.assigned": (ReferenceKind.PEOPLE,),
}

_ADAPTERS: dict[ReferenceKind, TypeAdapter[Any]] = {
    ReferenceKind.LEGAL_ENTITIES: TypeAdapter(list[LegalEntity]),
    ReferenceKind.RATE_CARDS: TypeAdapter(list[RateCard]),
    ReferenceKind.PEOPLE: TypeAdapter(list[Person]),
}


class ReferenceData:
    """Shared across requests: the cache, and one in-flight load per kind."""

    def __init__(self, systems: Systems, cache: KeyValueCache, ttl_s: int) -> None:
        self._systems = systems
        self._cache = cache
        self._ttl_s = ttl_s
        self._locks = {kind: asyncio.Lock() for kind in ReferenceKind}
        self.loads: dict[ReferenceKind, int] = dict.fromkeys(ReferenceKind, 0)

    def _source(self, kind: ReferenceKind) -> Callable[[], Awaitable[list[Any]]]:
        if kind is ReferenceKind.LEGAL_ENTITIES:
            return self._systems.erp.list_legal_entities
        if kind is ReferenceKind.RATE_CARDS:
            return self._systems.psa.list_rate_cards
        return self._systems.psa.list_people

    async def get(self, kind: ReferenceKind) -> list[Any]:
        adapter = _ADAPTERS[kind]
        key = f"ref:{kind.value}"
        cached = await self._cache.get(key)
        if cached is not None:
            try:
                return list(adapter.validate_json(cached))
            except ValidationError:
                await self._cache.delete(key)  # written by an older version: reload
        async with self._locks[kind]:
            cached = await self._cache.get(key)
            if cached is not None:
                return list(adapter.validate_json(cached))
            values = await self._source(kind)()
            self.loads[kind] += 1
            await self._cache.set(key, adapter.dump_json(values).decode(), self._ttl_s)
            return values

    async def invalidate(self, *kinds: ReferenceKind) -> None:
        """Drop cached lists (all when none named); every replica reads afresh next."""
        await self._cache.delete(*(f"ref:{k.value}" for k in kinds or tuple(ReferenceKind)))

    async def on_event(self, event_type: str) -> tuple[ReferenceKind, ...]:
        """Invalidate what a change event makes stale; returns the kinds dropped."""
        kinds = INVALIDATED_BY.get(event_type, ())
        if kinds:
            await self.invalidate(*kinds)
        return kinds


class RequestReference:
    """One request's view: each list read at most once."""

    def __init__(self, shared: ReferenceData) -> None:
        self._shared = shared
        self._memo: dict[ReferenceKind, asyncio.Task[list[Any]]] = {}

    def _get(self, kind: ReferenceKind) -> Awaitable[list[Any]]:
        task = self._memo.get(kind)
        if task is None:
            task = self._memo[kind] = asyncio.ensure_future(self._shared.get(kind))
        return task

    async def legal_entities(self) -> list[LegalEntity]:
        return await self._get(ReferenceKind.LEGAL_ENTITIES)

    async def rate_cards(self) -> list[RateCard]:
        return await self._get(ReferenceKind.RATE_CARDS)

    async def people(self) -> list[Person]:
        return await self._get(ReferenceKind.PEOPLE)
