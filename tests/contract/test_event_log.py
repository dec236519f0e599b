"""The event log's read side and the event hub, on the embedded store and on real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from adapters.redis_store import connect_redis
from adapters.store import RedisGovernanceStore
from adapters.store.event_log import CursorExpired, EventLog, InvalidCursor
from domain.governance import AuditEntry
from domain.operations import Commit
from tests.live_support import publish_to, time_approved
from tests.redis_support import real_redis_or_skip
from workflows.live import EventHub, LiveFeedStopped, LiveFeedUnavailable, SlowConsumer

KEY_A, KEY_B = "ENG-2026-00001", "ENG-2026-00002"


@pytest.fixture(params=["embedded", "real"])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Redis, str]]:
    if request.param == "embedded":
        client = connect_redis(None)
        yield client, "eg:"
        await client.aclose()
        return
    async for found in real_redis_or_skip():
        yield found


async def _publish(redis: tuple[Redis, str], count: int, key: str = KEY_A, tag: str = "e") -> None:
    journal = RedisGovernanceStore(*redis)
    events = tuple(time_approved(key, f"{tag}{i}") for i in range(count))
    audit = AuditEntry(
        at=datetime.now(UTC), actor="tests", role=None, action="test", engagement_key=key,
        correlation_id=None,
    )  # fmt: skip
    await publish_to(journal, Commit(events=events, audit=(audit,)))


async def _cursors(redis: tuple[Redis, str]) -> list[str]:
    """Every id on the stream, read straight from Redis."""
    client, prefix = redis
    return [str(entry_id) for entry_id, _ in await client.xrange(f"{prefix}events") or []]


async def test_replay_reads_after_the_cursor_exclusively_in_pages(
    redis: tuple[Redis, str],
) -> None:
    await _publish(redis, 7)
    log = EventLog(*redis)
    cursors = await _cursors(redis)
    assert len(cursors) == 7
    seen, after = [], cursors[0]
    while True:
        page = await log.read_after(after, 3)
        seen += [e.cursor for e in page.events]
        after = page.last or after
        if page.read < 3:
            break
    assert seen == cursors[1:]
    first = (await log.read_after("0-0", 1)).events[0]
    assert first.event.type == "time.approved" and first.record["data"]["time_entry_ids"] == ["e0"]


async def test_a_never_trimmed_log_takes_any_cursor_up_to_its_newest_entry(
    redis: tuple[Redis, str],
) -> None:
    log = EventLog(*redis)
    with pytest.raises(InvalidCursor, match="ahead"):
        await log.check_cursor("1-0")  # nothing published yet
    await _publish(redis, 2)
    cursors = await _cursors(redis)
    for good in ("0-0", "1-0", cursors[0], cursors[-1]):
        await log.check_cursor(good)
    ahead = f"{int(cursors[-1].split('-')[0]) + 1}-0"
    for bad in ("abc", "12", "1-2-3", "-1-0", f"{2**64}-0", ahead):
        with pytest.raises(InvalidCursor):
            await log.check_cursor(bad)


async def test_trimming_by_length_records_the_floor_and_expires_older_cursors(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    await _publish(redis, 10)
    log = EventLog(*redis)
    cursors = await _cursors(redis)
    audit_before = await client.xlen(f"{prefix}audit")
    assert await log.floor() is None
    assert await log.trim(datetime.now(UTC), retention_s=0, maxlen=4) == 6
    assert await log.floor() == cursors[6]
    assert await _cursors(redis) == cursors[6:]
    with pytest.raises(CursorExpired) as expired:
        await log.check_cursor(cursors[0])
    assert expired.value.floor == cursors[6]
    with pytest.raises(CursorExpired):
        await log.read_after(cursors[5], 10)
    await log.check_cursor(cursors[6])
    assert [e.cursor for e in (await log.read_after(cursors[6], 10)).events] == cursors[7:]
    assert await log.trim(datetime.now(UTC), retention_s=0, maxlen=100) == 0
    assert await log.floor() == cursors[6], "a trim that removes nothing leaves the floor"
    assert await client.xlen(f"{prefix}audit") == audit_before, "the audit stream is never trimmed"


async def test_trimming_by_age_drops_only_old_events(redis: tuple[Redis, str]) -> None:
    await _publish(redis, 3)
    log = EventLog(*redis)
    cursors = await _cursors(redis)
    now = datetime.now(UTC)
    assert await log.trim(now, retention_s=3600, maxlen=1000) == 0
    assert await log.floor() is None
    assert await log.trim(now + timedelta(hours=2), retention_s=3600, maxlen=1000) == 3
    assert await log.floor() == cursors[-1], "emptied: the floor is the last id generated"
    await log.check_cursor(cursors[-1])  # a subscriber that had seen everything lost nothing
    with pytest.raises(CursorExpired):
        await log.check_cursor(cursors[0])


async def _hub(redis: tuple[Redis, str], queue_size: int = 1000) -> EventHub:
    hub = EventHub(EventLog(*redis), lambda: datetime.now(UTC), queue_size=queue_size)
    await hub.start()
    return hub


async def test_the_hub_fans_out_to_matching_subscribers_and_skips_unreadable_records(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    hub = await _hub(redis)
    try:
        with (
            hub.subscription(keys=frozenset({KEY_A})) as on_a,
            hub.subscription(types=frozenset({"time.approved"})) as every,
            hub.subscription(types=frozenset({"invoice.posted"})) as none,
        ):
            await client.xadd(f"{prefix}events", {"record": "not json", "type": "x"})
            await _publish(redis, 1, KEY_A, "a")
            await _publish(redis, 1, KEY_B, "b")
            got_a = await asyncio.wait_for(on_a.next(), 5)
            assert got_a.record["data"]["time_entry_ids"] == ["a0"]
            tags = [(await asyncio.wait_for(every.next(), 5)).record["data"] for _ in range(2)]
            assert [t["time_entry_ids"] for t in tags] == [["a0"], ["b0"]]
            assert on_a.pending() == [] and none.pending() == []
            assert hub.subscribers == 3
        assert hub.subscribers == 0
    finally:
        await hub.stop()


async def test_a_slow_subscriber_is_cut_off_with_its_cursor_and_nobody_else_waits(
    redis: tuple[Redis, str],
) -> None:
    hub = await _hub(redis, queue_size=3)
    try:
        with (
            hub.subscription(keys=frozenset({KEY_A})) as slow,
            hub.subscription(keys=frozenset({KEY_B})) as other,
        ):
            start = slow.delivered
            await _publish(redis, 10, KEY_A, "burst")  # one read: more than the queue holds
            await _publish(redis, 1, KEY_B, "after")
            got = await asyncio.wait_for(other.next(), 5)
            assert got.record["data"]["time_entry_ids"] == ["after0"]
            with pytest.raises(SlowConsumer) as cut:
                await slow.next()
            assert cut.value.cursor == start  # nothing delivered: resume where it started
            with pytest.raises(SlowConsumer):
                slow.pending()  # and it stays ended
            assert hub.subscribers == 1
    finally:
        await hub.stop()


async def test_stopping_the_hub_ends_its_subscribers_and_returns_promptly(
    redis: tuple[Redis, str],
) -> None:
    hub = EventHub(EventLog(*redis), lambda: datetime.now(UTC), block_ms=60_000)
    await hub.start()
    with hub.subscription() as sub:
        # a read waited out would take a minute (and stop() cancels only after 5 s)
        await asyncio.wait_for(hub.stop(), 4)
        with pytest.raises(LiveFeedStopped):
            await sub.next()
    with pytest.raises(LiveFeedUnavailable, match="shutting down"), hub.subscription():
        pass  # nobody subscribes to a stopped hub (they would wait for ever)
