"""Test doubles shared by the unit, fidelity and contract tests.

Fake clocks and a recording sleep keep resilience tests free of real waiting;
`fast_policy` is a resilience policy whose backoff costs no time;
`SandboxControl` drives a sandbox's ``/__sandbox/`` control plane (call
counts, faults); `closing_factory` builds adapters and closes them all after
the test; `decimal_json` reads a body the way the adapters do.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import httpx
from starlette.applications import Starlette

from adapters.resilience import ResiliencePolicy

__all__ = [
    "FakeClock",
    "FakeWallClock",
    "RecordedSleeps",
    "SandboxControl",
    "closing_factory",
    "decimal_json",
    "fast_policy",
]


class FakeClock:
    """A monotonic clock (breakers, token expiry, rate windows) that moves only on demand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeWallClock:
    """A sandbox's wall clock (token and cursor expiry, write stamps), moved on demand."""

    def __init__(self, now: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class RecordedSleeps:
    """Stands in for ``asyncio.sleep``: records each delay asked for instead of waiting.

    A `clock` given is moved on by each delay, as if the time had passed; a
    `hook` set runs on each sleep (e.g. to lift a fault before the retry).
    """

    def __init__(
        self,
        hook: Callable[[], Awaitable[object]] | None = None,
        *,
        clock: FakeClock | None = None,
    ) -> None:
        self.delays: list[float] = []
        self.hook = hook
        self.clock = clock

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self.clock is not None:
            self.clock.now += delay
        if self.hook is not None:
            await self.hook()


def fast_policy(**overrides: Any) -> ResiliencePolicy:
    """A policy whose backoff is a millisecond or two; `overrides` set the rest."""
    settings: dict[str, Any] = {"backoff_base_s": 0.001, "backoff_max_s": 0.002, **overrides}
    return ResiliencePolicy(**settings)


class SandboxControl:
    """A sandbox app over ASGITransport, with its control plane (no vendor credentials).

    `vendor` makes a vendor call with `vendor_headers`, for arranging data.
    """

    def __init__(
        self, app: Starlette, base_url: str, vendor_headers: Mapping[str, str] | None = None
    ) -> None:
        self.app = app
        self.transport = httpx.ASGITransport(app=app)
        self.http = httpx.AsyncClient(transport=self.transport, base_url=base_url)
        self._vendor_headers = dict(vendor_headers or {})

    async def aclose(self) -> None:
        await self.http.aclose()

    async def by_endpoint(self) -> dict[str, int]:
        """Calls counted since the last reset, by ``"METHOD /path"``."""
        counts: dict[str, int] = (await self.http.get("/__sandbox/calls")).json()["by_endpoint"]
        return counts

    async def calls(self, endpoint: str | None = None) -> int:
        """Calls counted since the last reset: all of them, or those to `endpoint`."""
        counts = (await self.http.get("/__sandbox/calls")).json()
        return int(counts["by_endpoint"].get(endpoint, 0) if endpoint else counts["total"])

    async def reset_calls(self) -> None:
        await self.http.post("/__sandbox/calls/reset")

    async def faults(self, **values: float) -> None:
        response = await self.http.post("/__sandbox/faults", json=values)
        assert response.status_code == 200, response.text

    async def vendor(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, headers=self._vendor_headers, **kwargs)
        return response.json()


class _Closable(Protocol):
    async def aclose(self) -> None: ...


_A = TypeVar("_A", bound=_Closable)


@asynccontextmanager
async def closing_factory(build: Callable[..., _A]) -> AsyncIterator[Callable[..., _A]]:
    """`build` as a factory whose products are all closed when the block ends."""
    made: list[_A] = []

    def make(*args: Any, **kwargs: Any) -> _A:
        product = build(*args, **kwargs)
        made.append(product)
        return product

    try:
        yield make
    finally:
        for product in made:
            await product.aclose()


def decimal_json(response: httpx.Response) -> Any:
    """A response body as JSON, numbers with a fraction as Decimal (never float)."""
    return json.loads(response.content, parse_float=Decimal)
