"""Stopping a gateway ends its live streams with a reason, rather than holding the stop.

An open SSE stream is an HTTP response that never finishes: a server waiting for
its responses before it stops would wait forever. On SIGINT/SIGTERM `serve`
first ends every live subscription (SHUTTING_DOWN, with the cursor to resume
from), so the client is told why and where to pick up, and the process exits.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.governance import Role
from tests.e2e.gateway_process import GatewayProcess, bearer, clean_env
from tests.e2e.support import CliProcess, free_port_block
from tests.redis_support import REAL_REDIS_URL, real_redis_or_skip

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(60)]

EVENTS = "subscription { engagementEvents { cursor id type } }"


@pytest.fixture
def sandbox_base(tmp_path: Path) -> Iterator[int]:
    base = free_port_block(4)
    process = CliProcess(
        ["sandbox", "all", "--port", str(base), "--seed", "42"], cwd=tmp_path, env=clean_env()
    )
    try:
        process.wait_for_line("ready", timeout_s=60)
        yield base
    finally:
        process.stop()


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


async def _messages(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    kind, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            kind = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()
        elif not line and kind:
            yield kind, json.loads(data) if data else {}
            kind, data = "", ""


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
        async for message in _messages(response):
            received.append(message)
        await stopping
    [(kind, payload), (last, _)] = received
    assert (kind, last) == ("next", "complete"), received
    [error] = payload["errors"]
    assert error["extensions"]["code"] == "SHUTTING_DOWN", error
    assert error["extensions"]["cursor"], error
    assert process.returncode == 0  # a clean stop, not the kill after the stop timed out
