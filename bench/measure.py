"""Measuring tools for the graph benchmarks: percentiles, GraphQL load, sandbox
counters, and the critical path of the backend calls one request made."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = [
    "Call",
    "Load",
    "Sandboxes",
    "TimedTransport",
    "critical_path",
    "percentile",
    "post_graphql",
    "run_load",
]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def post_graphql(
    client: httpx.AsyncClient, query: str, variables: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """POST one operation; fail on a non-200 answer or on any GraphQL error."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": dict(variables or {})}
    )
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"HTTP {response.status_code}: {str(body.get('errors'))[:500]}")
    return body


@dataclass
class Load:
    """Latencies (ms) of the requests that completed, and the wall time of the run."""

    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0

    def summary(self) -> str:
        lat = self.latencies_ms
        return (
            f"n={len(lat)}  p50 {percentile(lat, 50):7.2f} ms  p99 {percentile(lat, 99):7.2f} ms"
            f"  {self.rps:7.1f} req/s"
        )


async def run_load(
    url: str,
    query: str,
    variables: Mapping[str, Any],
    *,
    requests: int,
    concurrency: int,
    keepalive: bool = True,
    time_limit_s: float = 60.0,
) -> Load:
    """`requests` POSTs from `concurrency` workers; stops early at `time_limit_s`.

    Without `keepalive` every request opens its own connection.
    """
    load = Load()
    deadline = time.monotonic() + time_limit_s
    remaining = iter(range(requests))
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency if keepalive else 0
    )

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in remaining:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            await post_graphql(client, query, variables)
            load.latencies_ms.append((time.perf_counter() - started) * 1000)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        load.wall_s = time.perf_counter() - started
    return load


class Sandboxes:
    """The four sandboxes' control planes (`/__sandbox/...`)."""

    def __init__(self, urls: Mapping[str, str]) -> None:
        self.urls = dict(urls)
        self.http = httpx.AsyncClient(timeout=30)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def reset_calls(self) -> None:
        for url in self.urls.values():
            (await self.http.post(f"{url}/__sandbox/calls/reset")).raise_for_status()

    async def calls(self) -> dict[str, dict[str, int]]:
        """Calls by endpoint, per system, since the last reset."""
        found: dict[str, dict[str, int]] = {}
        for name, url in self.urls.items():
            response = await self.http.get(f"{url}/__sandbox/calls")
            found[name] = response.json()["by_endpoint"]
        return found

    async def set_latency(self, latency_ms: float) -> None:
        for url in self.urls.values():
            response = await self.http.post(
                f"{url}/__sandbox/faults", json={"latency_ms": latency_ms}
            )
            response.raise_for_status()


@dataclass(frozen=True, slots=True)
class Call:
    system: str
    endpoint: str
    start: float
    end: float


class TimedTransport(httpx.AsyncBaseTransport):
    """Real HTTP, with each request's start and end (perf_counter) recorded."""

    def __init__(self, system: str, calls: list[Call]) -> None:
        self._system = system
        self._calls = calls
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = await self._inner.handle_async_request(request)
        await response.aread()
        endpoint = f"{request.method} {request.url.path}"
        self._calls.append(Call(self._system, endpoint, started, time.perf_counter()))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def critical_path(calls: Sequence[Call]) -> list[Call]:
    """The longest chain of calls each starting after the previous one ended.

    Its length is the number of sequential backend round trips ("levels") the
    request waited for; calls that overlap in time ran concurrently.
    """
    ordered = sorted(calls, key=lambda c: c.start)
    best: list[list[Call]] = []
    for i, call in enumerate(ordered):
        before = [best[j] for j in range(i) if ordered[j].end <= call.start]
        best.append([*max(before, key=len, default=[]), call])
    return max(best, key=len, default=[])
