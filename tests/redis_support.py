"""Reaching the real Redis for tests: own key prefix, clean only that."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["REAL_REDIS_URL", "real_redis_or_skip"]

REAL_REDIS_URL = os.environ.get("EG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def real_redis_or_skip() -> AsyncIterator[tuple[Redis, str]]:
    """Yield (client, unique key prefix); delete that prefix's keys afterwards.

    With EG_REQUIRE_REDIS=1 (as in CI) an unreachable Redis fails the test.
    """
    client: Redis = Redis.from_url(REAL_REDIS_URL, decode_responses=True)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        if os.environ.get("EG_REQUIRE_REDIS") == "1":
            pytest.fail(f"real Redis required at {REAL_REDIS_URL}: {exc}")
        pytest.skip(f"real Redis not reachable at {REAL_REDIS_URL}: {exc}")
    prefix = f"eg-test:{uuid.uuid4().hex}:"
    try:
        yield client, prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
