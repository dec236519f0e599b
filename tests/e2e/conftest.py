"""Fixtures of the end-to-end tests that run the product as processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.e2e.gateway_process import clean_env
from tests.e2e.support import CliProcess, free_port_block
from tests.redis_support import real_redis_or_skip


@pytest.fixture
async def redis_prefix() -> AsyncIterator[tuple[Redis, str]]:
    """The real Redis and a key prefix of this test's own (its keys deleted afterwards)."""
    async for found in real_redis_or_skip():
        yield found


@pytest.fixture
def sandbox_base(tmp_path: Path) -> Iterator[int]:
    """`engagement-gateway sandbox all` seeded with the demo firm, in a process of its own."""
    base = free_port_block(4)
    argv = ["sandbox", "all", "--port", str(base), "--seed", "42"]
    process = CliProcess(argv, cwd=tmp_path, env=clean_env())
    try:
        process.wait_for_line("ready", timeout_s=60)
        yield base
    finally:
        process.stop()
