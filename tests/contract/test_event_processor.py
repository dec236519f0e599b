"""The event processor's consumer group over the real store code, on both stores: entries
are acknowledged once handled, a failing entry does not hold up the next, and an entry is
dead-lettered — not retried forever — when it cannot be read or has been delivered
`max_deliveries` times; a dead-lettered event replays or discards like any dead letter."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.redis_store import connect_redis
from adapters.store import RedisGovernanceStore
from domain.errors import InvalidInput
from domain.events import Event, OpportunityWon, TimeApproved, event_id
from domain.governance import DeadLetterStatus, Principal, Role
from domain.ids import EngagementKey
from domain.observability import NullMetrics
from tests.redis_support import real_redis_or_skip
from workflows.deadletters import EVENT_DEAD_LETTER, DeadLetters
from workflows.operations import OperationRunner
from workflows.processors import ACTIVATION_GROUP, Processor
from workflows.transitions import Caller

ENG = EngagementKey("ENG-2026-00042")
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ADMIN = Caller(Principal(subject="ops", roles=frozenset({Role.ADMIN})))


@pytest.fixture(params=["embedded", "real"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RedisGovernanceStore]:
    if request.param == "embedded":
        client = connect_redis(None)
        yield RedisGovernanceStore(client, "eg-test:")
        await client.aclose()
        return
    async for client, prefix in real_redis_or_skip():
        yield RedisGovernanceStore(client, prefix)


def processor(store: RedisGovernanceStore, max_deliveries: int = 3) -> Processor:
    """A processor whose runner knows no operation kind: submitting an activation fails."""
    runner = OperationRunner(
        store=store, kinds={}, metrics=NullMetrics(), holder="p1", step_attempts=1
    )
    return Processor(
        source=store,
        runner=runner,
        reference=None,
        consumer="p1",
        clock=lambda: NOW,
        claim_idle_ms=0,  # every pass takes back what is pending
        max_deliveries=max_deliveries,
    )


async def publish(store: RedisGovernanceStore, record: dict[str, object] | str) -> str:
    payload = record if isinstance(record, str) else json.dumps(record)
    entry_id = await store._redis.xadd(store.keys.events, {"record": payload})
    return entry_id if isinstance(entry_id, str) else entry_id.decode()


def approved(n: int) -> Event:
    return TimeApproved(
        id=event_id("t", str(n)), subject=ENG, time=NOW, time_entry_ids=[str(n)], hours="1"
    )


def won() -> Event:
    return OpportunityWon(
        id=event_id("won"),
        subject=ENG,
        time=NOW,
        opportunity_id="006A",
        customer_key=None,
        billing_model=None,
        amount=None,
        currency=None,
    )


async def pending(store: RedisGovernanceStore) -> int:
    summary = await store._redis.xpending(store.keys.events, ACTIVATION_GROUP)
    return int(summary["pending"])


async def test_a_failing_entry_is_retried_then_dead_lettered_without_holding_up_others(
    store: RedisGovernanceStore,
) -> None:
    worker = processor(store, max_deliveries=3)
    await worker.start()
    won_id = await publish(store, won().to_record())
    await publish(store, approved(1).to_record())

    assert await worker.run_once() == 2  # the won event fails, the next is acknowledged
    assert await pending(store) == 1
    assert await worker.run_once() == 1 and await worker.run_once() == 1  # deliveries 2 and 3
    assert await store.dead_letters() == []
    assert await worker.run_once() == 1  # the fourth delivery is one too many
    assert await pending(store) == 0
    [letter] = await store.dead_letters(DeadLetterStatus.PENDING)
    assert letter.operation == EVENT_DEAD_LETTER and letter.step == "opportunity.won"
    assert letter.engagement_key == ENG and letter.attempts == 4
    assert letter.context["entry_id"] == won_id and "KeyError" in letter.error
    assert json.loads(letter.context["record"])["id"] == won().id
    assert await worker.run_once() == 0  # nothing comes back


async def test_consumers_that_die_holding_an_entry_use_up_its_deliveries(
    store: RedisGovernanceStore,
) -> None:
    worker = processor(store, max_deliveries=3)
    await worker.start()
    entry_id = await publish(store, approved(7).to_record())
    [first] = await store.read_group(ACTIVATION_GROUP, "dies-1")  # never acknowledged
    assert first.deliveries == 1
    for n, consumer in enumerate(("dies-2", "dies-3"), start=2):
        [again] = await store.claim_stale(ACTIVATION_GROUP, consumer, min_idle_ms=0)
        assert again.entry_id == entry_id and again.deliveries == n
    assert await worker.run_once() == 1
    [letter] = await store.dead_letters()
    assert letter.attempts == 4 and "never acknowledged" in letter.error
    assert await pending(store) == 0

    queue = DeadLetters(store, worker.runner, NullMetrics(), {}, event_replay=worker.replay)
    replayed, operation = await queue.replay(letter.id, ADMIN)
    assert operation is None and replayed.status is DeadLetterStatus.REPLAYED
    assert replayed.replays == 1 and "handled again" in (replayed.note or "")
    with pytest.raises(InvalidInput, match="already replayed"):
        await queue.replay(letter.id, ADMIN)


async def test_an_unreadable_entry_is_dead_lettered_at_once_and_can_only_be_discarded(
    store: RedisGovernanceStore,
) -> None:
    worker = processor(store)
    await worker.start()
    bad_type = {**approved(1).to_record(), "type": "time.misplaced"}
    await publish(store, bad_type)
    await publish(store, "{not json")
    await publish(store, approved(2).to_record())
    assert await worker.run_once() == 3
    assert await pending(store) == 0
    letters = await store.dead_letters()
    assert {letter.error_type for letter in letters} == {"PoisonEvent"}
    assert len(letters) == 2 and all(letter.attempts == 1 for letter in letters)
    assert any("time.misplaced" in letter.error for letter in letters)

    queue = DeadLetters(store, worker.runner, NullMetrics(), {}, event_replay=worker.replay)
    with pytest.raises(InvalidInput, match="cannot be read"):
        await queue.replay(letters[0].id, ADMIN)
    discarded, undone = await queue.discard(letters[0].id, "garbage from a test", ADMIN)
    assert discarded.status is DeadLetterStatus.DISCARDED and undone == []
    assert (await store.get_dead_letter(letters[1].id)) is not None
