"""Run several ASGI apps on their own ports in one process (sandbox `all`, demo)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
import sys
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

__all__ = ["SHUTDOWN_GRACE_S", "Served", "serve_all"]

SHUTDOWN_GRACE_S = 5  # seconds open connections get to finish when the server stops


@dataclass(frozen=True, slots=True)
class Served:
    name: str
    app: ASGIApp
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to `serve_all`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _can_bind(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def _serve(server: uvicorn.Server) -> None:
    """uvicorn exits the process on a failed start; here that just ends this task."""
    with contextlib.suppress(SystemExit):
        await server.serve()


async def serve_all(
    apps: Sequence[Served],
    *,
    on_ready: Callable[[], None] | None = None,
    log_level: str = "warning",
) -> int:
    """Serve every app until SIGINT/SIGTERM; call `on_ready` once all listen.

    Returns a process exit code: 0 on a clean stop, 1 if a server failed to start.
    """
    busy = [a for a in apps if not _can_bind(a.host, a.port)]
    if busy:
        for a in busy:
            print(f"engagement-gateway: {a.name}: {a.host}:{a.port} is in use", file=sys.stderr)
        return 1
    # Open SSE streams and WebSockets would hold a graceful shutdown forever: after this
    # long uvicorn cancels them (their clients resume from their last cursor).
    servers = [
        _Server(
            uvicorn.Config(
                a.app,
                host=a.host,
                port=a.port,
                log_level=log_level,
                lifespan="on",
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
                # permessage-deflate holds ~47 KB of zlib state per WebSocket for messages
                # of a few hundred bytes: 2,000 dashboards paid 90 MiB for nothing.
                ws_per_message_deflate=False,
            )
        )
        for a in apps
    ]
    loop = asyncio.get_running_loop()

    draining: dict[int, asyncio.Future[None]] = {}  # live feeds told to end their streams

    def stop() -> None:
        for served, server in zip(apps, servers, strict=True):
            server.should_exit = True
            live = getattr(getattr(served.app, "state", None), "live", None)
            if live is not None and id(live) not in draining:  # end streams now, not at grace
                draining[id(live)] = asyncio.ensure_future(live.stop())

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(_serve(server)) for server in servers]
    while not all(server.started for server in servers):
        if any(task.done() for task in tasks):  # a bind failed: stop the others
            stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            return 1
        await asyncio.sleep(0.02)
    # What start-up built (modules, schema, catalogue) lives as long as the process: kept out
    # of every later collection, a full one walks only what serving allocates. With 2,000
    # subscribers a full collection was the latency tail (bench/RESULTS.md).
    gc.freeze()
    # Young collections every 10,000 allocations instead of 700: a message in flight is
    # then rarely caught alive by one and promoted, and promotions are what bring on the
    # full collections (hundreds of ms with 2,000 subscribers).
    gc.set_threshold(10_000, 10, 10)
    if on_ready is not None:
        on_ready()
    await asyncio.gather(*tasks, return_exceptions=True)
    return 0
