"""Serving an ASGI app on a real port inside a test, and waiting on conditions.

`serve` runs any ASGI app under uvicorn in the test's event loop, on a
socket bound first (no race for the port), and leaves the test runner's
signal handling alone. `wait_until` polls a condition (sync or async) until
it holds, failing after a deadline: tests wait on what they need, never for
a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Generator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["serve", "wait_until"]


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout_s: float = 5.0,
    what: str = "condition",
) -> None:
    """Poll `condition()` (sync or async) until true; fail after `timeout_s`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s}s")
        await asyncio.sleep(0.005)


class _Server(uvicorn.Server):
    """Leaves the test runner's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, *, graceful_s: int | None = None) -> AsyncIterator[str]:
    """`app` on 127.0.0.1 at a port of its own (its lifespan is the caller's business);
    yields its base URL. `graceful_s` bounds how long open connections hold the stop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", timeout_graceful_shutdown=graceful_s
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_until(lambda: server.started or task.done(), 10.0, "server start")
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
