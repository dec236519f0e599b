"""The control plane every sandbox shares: fault injection, call counting, reset.

Mounted under ``/__sandbox/`` (no vendor credentials needed):

- ``GET  /__sandbox/calls`` → ``{"total": n, "by_endpoint": {"GET /path": n}}``
- ``POST /__sandbox/calls/reset`` zeroes the counters
- ``GET/POST /__sandbox/faults`` reads / sets ``latency_ms``, ``jitter_ms``,
  ``error_rate`` (500/503), ``rate_limit_rate`` (the vendor's throttle answer),
  ``timeout_rate`` (the request hangs for ``hang_ms``), ``error_after_rate`` (the
  request is applied, then its answer is replaced by a 500/503: a lost response,
  the case idempotent writes must survive) — all optional, 0 by default
- ``GET  /__sandbox/requests`` → the last requests seen (method, path, query,
  ``X-Correlation-ID``), newest last, so tests can check what reached the vendor
- ``POST /__sandbox/reset`` restores the seeded state, zeroes counters and faults

`FaultMiddleware` is pure ASGI: it counts each vendor request, then applies the
configured latency and faults before the vendor app sees it; ``error_after_rate``
alone acts after the app has answered (the answer is swallowed and a server
error sent in its place). How a vendor
says "throttled" or "server error" is the vendor's business: each sandbox
passes its own response builders.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CONTROL_PREFIX",
    "ControlPlane",
    "FaultMiddleware",
    "Faults",
]

CONTROL_PREFIX = "/__sandbox"


@dataclass(slots=True)
class Faults:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    timeout_rate: float = 0.0
    error_after_rate: float = 0.0
    hang_ms: float = 30_000.0
    retry_after_s: int = 1

    def update(self, values: dict[str, Any]) -> list[str]:
        """Apply known keys; return error messages for bad ones (nothing applied then)."""
        known = {f.name: f for f in fields(self)}
        problems: list[str] = []
        parsed: dict[str, float] = {}
        for name, raw in values.items():
            if name not in known:
                problems.append(f"unknown fault setting {name!r}")
                continue
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                problems.append(f"{name} must be a number")
                continue
            if not math.isfinite(raw):
                problems.append(f"{name} must be a finite number")
                continue
            if raw < 0 or (name.endswith("_rate") and raw > 1):
                problems.append(f"{name} out of range: {raw}")
                continue
            parsed[name] = raw
        if not problems:
            for name, value in parsed.items():
                setattr(self, name, int(value) if name == "retry_after_s" else float(value))
        return problems


class ControlPlane:
    """Counters, faults and reset for one sandbox instance."""

    def __init__(
        self,
        *,
        reset_state: Callable[[], None],
        faults: Faults | None = None,
        seed: int = 0,
    ) -> None:
        self.faults = faults or Faults()
        self._initial_faults = asdict(self.faults)
        self.calls: Counter[str] = Counter()
        self.recent: deque[dict[str, str | None]] = deque(maxlen=500)
        self.rng = random.Random(seed)
        self._reset_state = reset_state

    def count(self, scope: Scope) -> None:
        method, path = scope["method"], scope["path"]
        self.calls[f"{method} {path}"] += 1
        headers = dict(scope["headers"])
        cid = headers.get(b"x-correlation-id")
        self.recent.append(
            {
                "method": method,
                "path": path,
                "query": scope.get("query_string", b"").decode("latin-1"),
                "correlation_id": cid.decode("latin-1") if cid is not None else None,
            }
        )

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def routes(self) -> list[Route]:
        return [
            Route(f"{CONTROL_PREFIX}/calls", self._get_calls, methods=["GET"]),
            Route(f"{CONTROL_PREFIX}/calls/reset", self._reset_calls, methods=["POST"]),
            Route(f"{CONTROL_PREFIX}/faults", self._get_faults, methods=["GET"]),
            Route(f"{CONTROL_PREFIX}/faults", self._set_faults, methods=["POST"]),
            Route(f"{CONTROL_PREFIX}/requests", self._get_requests, methods=["GET"]),
            Route(f"{CONTROL_PREFIX}/reset", self._reset, methods=["POST"]),
        ]

    async def _get_calls(self, request: Request) -> Response:
        return JSONResponse({"total": self.total, "by_endpoint": dict(sorted(self.calls.items()))})

    async def _get_requests(self, request: Request) -> Response:
        return JSONResponse({"requests": list(self.recent)})

    async def _reset_calls(self, request: Request) -> Response:
        self.calls.clear()
        self.recent.clear()
        return JSONResponse({"total": 0, "by_endpoint": {}})

    async def _get_faults(self, request: Request) -> Response:
        return JSONResponse(asdict(self.faults))

    async def _set_faults(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as exc:
            return JSONResponse({"error": f"malformed JSON: {exc.msg}"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        problems = self.faults.update(body)
        if problems:
            return JSONResponse({"error": "; ".join(problems)}, status_code=400)
        return JSONResponse(asdict(self.faults))

    async def _reset(self, request: Request) -> Response:
        self._reset_state()
        self.calls.clear()
        self.recent.clear()
        for name, value in self._initial_faults.items():
            setattr(self.faults, name, value)
        return JSONResponse({"reset": True})


class FaultMiddleware:
    """Counts vendor calls and injects latency, errors, throttling and hangs."""

    def __init__(
        self,
        app: ASGIApp,
        control: ControlPlane,
        *,
        throttled: Callable[[Faults], Response],
        server_error: Callable[[int], Response],
    ) -> None:
        self.app = app
        self.control = control
        self.throttled = throttled
        self.server_error = server_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        control = self.control
        control.count(scope)
        faults = control.faults
        rng = control.rng
        delay = faults.latency_ms + (rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        if faults.timeout_rate and rng.random() < faults.timeout_rate:
            await asyncio.sleep(faults.hang_ms / 1000)
        if faults.rate_limit_rate and rng.random() < faults.rate_limit_rate:
            await self.throttled(faults)(scope, receive, send)
            return
        if faults.error_rate and rng.random() < faults.error_rate:
            status = 503 if rng.random() < 0.5 else 500
            await self.server_error(status)(scope, receive, send)
            return
        if faults.error_after_rate and rng.random() < faults.error_after_rate:
            await self.app(scope, receive, _swallow)  # applied; its answer is lost
            status = 503 if rng.random() < 0.5 else 500
            await self.server_error(status)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _swallow(message: Message) -> None:
    """An ASGI `send` that drops the vendor's answer (see ``error_after_rate``)."""
    return None
