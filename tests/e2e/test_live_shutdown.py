"""Stopping a gateway ends its live streams with a reason, rather than holding the stop.

An open SSE stream is an HTTP response that never finishes: a server waiting for
its responses before it stops would wait forever. On SIGINT/SIGTERM `serve`
first ends every live subscription (SHUTTING_DOWN, with the cursor to resume
from), so the client is told why and where to pick up, and the process exits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.governance import Role
from tests.e2e.gateway_process import GatewayProcess, bearer
from tests.live_support import sse_events
from tests.redis_support import REAL_REDIS_URL, real_redis_or_skip

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(60)]

EVENTS = "subscription { engagementEvents { cursor id type } }"


@pytest.fixture
async def gateway(sandbox_base: int, tmp_path: Path) -> AsyncIterator[GatewayProcess]:
    async for _, prefix in real_redis_or_skip():
        (tmp_path / "gw").mkdir()
        process = GatewayProcess(sandbox_base, REAL_REDIS_URL, prefix, tmp_path / "gw")
        await asyncio.to_thread(process.start)
        try:
            yield process
        finally:
            process.stop()


async def test_stopping_the_gateway_ends_an_open_sse_stream_with_where_to_resume(
    gateway: GatewayProcess,
) -> None:
    headers = {**bearer("dashboard", Role.EXECUTIVE), "Accept": "text/event-stream"}
    received: list[tuple[str, dict[str, Any]]] = []
    assert gateway.process is not None
    process = gateway.process.proc
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=httpx.Timeout(30, read=None)) as http,
        http.stream("POST", "/graphql", json={"query": EVENTS}, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        stopping = asyncio.create_task(asyncio.to_thread(gateway.stop))
        async for message in sse_events(response):
            received.append(message)
        await stopping
    [(kind, payload), (last, _)] = received
    assert payload is not None
    assert (kind, last) == ("next", "complete"), received
    [error] = payload["errors"]
    assert error["extensions"]["code"] == "SHUTTING_DOWN", error
    assert error["extensions"]["cursor"], error
    assert process.returncode == 0  # a clean stop, not the kill after the stop timed out
