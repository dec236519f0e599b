"""The Redis store connection: embedded (fakeredis) and real Redis behave alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.redis_store import RedisCache, connect_redis, redis_ping
from tests.redis_support import REAL_REDIS_URL, real_redis_or_skip


@pytest.fixture(params=["embedded", "real"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Redis, str]]:
    if request.param == "embedded":
        client = connect_redis(None)
        yield client, "eg-test:"
        await client.aclose()
        return
    async for pair in real_redis_or_skip():
        yield pair


async def test_store_answers_ping(store: tuple[Redis, str]) -> None:
    client, _ = store
    assert await redis_ping(client) == (True, None)


async def test_set_nx_with_expiry_is_first_writer_wins(store: tuple[Redis, str]) -> None:
    client, prefix = store
    key = f"{prefix}idem"
    assert await client.set(key, "first", nx=True, ex=60) is True
    assert await client.set(key, "second", nx=True, ex=60) is None
    assert await client.get(key) == "first"
    assert 0 < await client.ttl(key) <= 60


async def test_streams_with_consumer_groups_deliver_and_ack(store: tuple[Redis, str]) -> None:
    client, prefix = store
    stream = f"{prefix}events"
    await client.xgroup_create(stream, "g", id="0", mkstream=True)
    first = await client.xadd(stream, {"type": "opportunity.won"})
    delivered: list[tuple[str, list[tuple[str, dict[str, str]]]]] = await client.xreadgroup(
        "g", "c1", {stream: ">"}, count=10
    )  # type: ignore[assignment]
    assert delivered[0][1][0][0] == first
    assert await client.xack(stream, "g", first) == 1


async def test_unreachable_redis_is_reported_not_raised() -> None:
    client = connect_redis("redis://127.0.0.1:1/0")
    ok, problem = await redis_ping(client)
    await client.aclose()
    assert ok is False
    assert problem is not None and "Connection" in problem


def test_real_redis_url_defaults_to_the_local_server() -> None:
    assert REAL_REDIS_URL.startswith("redis://")


async def test_the_cache_reads_as_a_miss_when_the_store_is_down() -> None:
    client = connect_redis("redis://127.0.0.1:1/0")
    cache = RedisCache(client, "eg-test:", timeout_s=0.5)
    assert await cache.get("anything") is None
    await cache.set("anything", "value", 60)  # dropped, not raised
    assert await cache.delete("anything") == 0
    await client.aclose()
