"""Webhooks in tests: a recording receiver on a real port, and signing done independently.

`serve` runs any ASGI app under uvicorn on a port of its own, in the test's
event loop (the socket is bound first, so there is no race for the port).
`Receiver` is the smallest webhook endpoint: it records every request and
answers with the statuses it was told to (then 202). `signed` builds the
``X-EG-*`` headers with hmac directly, so a test never trusts the code under
test to sign for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import socket
from collections import deque
from collections.abc import AsyncIterator, Generator, Iterable
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

__all__ = ["Received", "Receiver", "hmac_hex", "serve", "signed", "wait_until"]


def hmac_hex(secret: str, timestamp: int | str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed(
    body: bytes, secrets: Iterable[str], *, timestamp: int, delivery: str = "d-1"
) -> dict[str, str]:
    macs = ",".join(f"v1={hmac_hex(s, timestamp, body)}" for s in secrets)
    return {
        "Content-Type": "application/json",
        "X-EG-Signature": f"t={timestamp},{macs}",
        "X-EG-Delivery": delivery,
    }


async def wait_until(condition: Any, timeout_s: float = 5.0, what: str = "condition") -> None:
    """Poll `condition()` (sync or async) until true; fail after `timeout_s`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s}s")
        await asyncio.sleep(0.01)


class _Server(uvicorn.Server):
    """Leaves the test runner's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """`app` on 127.0.0.1 at a port of its own; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_until(lambda: server.started or task.done(), what="server start")
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Records each POST; answers the queued statuses first, then 202."""

    def __init__(self, answers: Iterable[int] = ()) -> None:
        self.received: list[Received] = []
        self.answers: deque[int] = deque(answers)
        self.app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["POST"])])

    async def _endpoint(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.received.append(Received(request.url.path, headers, await request.body()))
        status = self.answers.popleft() if self.answers else 202
        return JSONResponse({"status": status}, status_code=status)

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Received]:
        await wait_until(lambda: len(self.received) >= count, timeout_s, f"{count} webhook(s)")
        return self.received
