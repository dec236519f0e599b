"""Connecting to the Redis store: real Redis when a URL is given, else in-process.

The embedded default (fakeredis) lets the gateway run on a bare machine; the
same code runs against both, since fakeredis supports what the product uses.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import fakeredis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

__all__ = ["RedisCache", "connect_redis", "redis_ping"]

logger = logging.getLogger(__name__)


def connect_redis(url: str | None, *, max_connections: int = 200, wait_s: float = 10.0) -> Redis:
    """A client for `url`, or an in-process Redis when `url` is None.

    Connections come from a blocking pool: under a burst of concurrent transitions
    (each WATCH/MULTI holds a connection while it runs) a caller waits up to `wait_s`
    for a free connection instead of failing at once.
    """
    if url is None:
        client: Redis = fakeredis.FakeAsyncRedis(
            decode_responses=True, max_connections=max(max_connections, 1000)
        )
        return client
    pool = BlockingConnectionPool.from_url(
        url, decode_responses=True, max_connections=max_connections, timeout=wait_s
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections


async def redis_ping(client: Redis, timeout_s: float = 2.0) -> tuple[bool, str | None]:
    """Is the store answering within `timeout_s`? Returns (ok, problem)."""
    try:
        async with asyncio.timeout(timeout_s):
            answer: Any = await client.ping()
    except TimeoutError:
        return False, f"no answer within {timeout_s}s"
    except (RedisError, OSError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return bool(answer), None


class RedisCache:
    """`KeyValueCache` over Redis, every key under one prefix.

    Best effort: the cache only saves calls, so a store that is down or slow
    (past `timeout_s`) reads as a miss and a write that fails is dropped, with
    a warning logged; the caller then reads from the system itself.
    """

    def __init__(self, client: Redis, prefix: str, timeout_s: float = 1.0) -> None:
        self._client = client
        self._prefix = prefix
        self._timeout_s = timeout_s

    async def get(self, key: str) -> str | None:
        try:
            async with asyncio.timeout(self._timeout_s):
                value = await self._client.get(self._prefix + key)
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("cache read of %s failed, reading the source: %s", key, exc)
            return None
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, ttl_s: int) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._client.set(self._prefix + key, value, ex=ttl_s)
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("cache write of %s failed, not cached: %s", key, exc)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        try:
            async with asyncio.timeout(self._timeout_s):
                removed: int = await self._client.delete(*(self._prefix + k for k in keys))
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("cache delete of %s failed: %s", ", ".join(keys), exc)
            return 0
        return removed
