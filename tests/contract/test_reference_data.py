"""Reference data: cached in the store with a TTL, shared, dropped by change events."""

from __future__ import annotations

from adapters.redis_store import RedisCache, connect_redis
from gateway.config import Settings
from gateway.wiring import build_systems
from sandboxes.firm import Firm
from tests.sandbox_support import InProcessSandboxes
from workflows.reference import ReferenceData, ReferenceKind


def _reference(firm: Firm) -> tuple[ReferenceData, InProcessSandboxes]:
    sandboxes = InProcessSandboxes.start(firm)
    settings = Settings(
        salesforce_url="http://salesforce",
        kantata_url="http://kantata",
        harvest_url="http://harvest",
        netsuite_url="http://netsuite",
    )
    systems = build_systems(settings, sandboxes.transports())
    cache = RedisCache(connect_redis(None), "eg-test:")
    return ReferenceData(systems, cache, ttl_s=300), sandboxes


async def test_lists_are_read_once_then_served_from_the_cache(firm: Firm) -> None:
    reference, _ = _reference(firm)
    first = await reference.get(ReferenceKind.PEOPLE)
    again = await reference.get(ReferenceKind.PEOPLE)
    assert first == again and len(first) == len(firm.people)
    assert reference.loads[ReferenceKind.PEOPLE] == 1


async def test_a_change_event_drops_only_the_lists_it_makes_stale(firm: Firm) -> None:
    reference, _ = _reference(firm)
    for kind in ReferenceKind:
        await reference.get(kind)
    assert await reference.on_event("rate_card.changed") == (ReferenceKind.RATE_CARDS,)
    assert await reference.on_event("invoice.posted") == ()
    for kind in ReferenceKind:
        await reference.get(kind)
    assert reference.loads == {
        ReferenceKind.LEGAL_ENTITIES: 1,
        ReferenceKind.RATE_CARDS: 2,
        ReferenceKind.PEOPLE: 1,
    }
