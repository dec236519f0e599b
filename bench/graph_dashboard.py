"""The finance dashboard against sandboxes at 40 ms: calls, latency, levels, RSS.

- batched: `engagement-gateway serve`, warmed up once, then RUNS sequential
  requests; the sandboxes' call counters are reset before each request.
- levels (sequential backend round trips), two ways:
  1. observed: the same gateway built in this process (`create_app`) over real
     HTTP to the same sandboxes, each backend call's start and end recorded
     by an httpx transport; the critical path is the longest chain of calls
     each starting after the previous ended (`measure.critical_path`);
  2. slope: (p50 at 40 ms - p50 at 0 ms) / 40 ms, on the served gateway.
- overhead: the same requests with the sandboxes' latency set to 0 ms.
- ratio: p50 / (levels x 40 ms + overhead p50); the issue asks <= 1.2.
- naive: a second `serve` with EG_NAIVE_FANOUT=true, EG_HARVEST_RATE_LIMIT=none
  and EG_REQUEST_BUDGET_S=120, fewer runs (it is slow).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from bench.measure import Call, Sandboxes, TimedTransport, critical_path, percentile, post_graphql
from bench.procs import Proc, cpu_seconds, gateway_env, memory_kib, start_gateway
from gateway.app import create_app
from gateway.config import Settings
from gateway.graphiql_examples import FINANCE_DASHBOARD
from tests.e2e.support import free_port

__all__ = ["DASHBOARD_VARS", "WARM_UP", "DashboardFigures", "run_dashboard"]

DASHBOARD_VARS = {"first": 100, "since": "2026-10-01"}
WARM_UP = """{ engagements(first: 1) {
  nodes { legalEntity { code } rateCard { version } assignments { person { name } } } } }"""
LATENCY_MS = 40.0
RUNS, ZERO_RUNS, NAIVE_RUNS, TRACED_RUNS = 20, 10, 3, 3


@dataclass
class Series:
    latencies_ms: list[float]
    calls: list[Counter[str]]  # per request: calls by "system endpoint"
    cpu_ms: dict[str, float]  # CPU per request of each process (gateway, sandboxes)

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies_ms, 95)

    @property
    def calls_per_request(self) -> float:
        return statistics.mean(sum(c.values()) for c in self.calls)


@dataclass
class DashboardFigures:
    key: str  # an engagement with a project, for the overhead benchmark
    batched: Series
    zero: Series
    naive: Series
    levels: int
    chain: list[Call]
    rss_kib: dict[str, int]


async def _series(
    url: str,
    sandboxes: Sandboxes,
    runs: int,
    pids: Mapping[str, int],
    *,
    warm_up: bool = False,
) -> tuple[Series, dict[str, Any]]:
    """`runs` dashboards (or the small WARM_UP query), calls counted per request."""
    query, variables = (WARM_UP, {}) if warm_up else (FINANCE_DASHBOARD, DASHBOARD_VARS)
    series, body = Series([], [], {}), {}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for _ in range(runs):
            await sandboxes.reset_calls()
            started = time.perf_counter()
            body = await post_graphql(client, query, variables)
            series.latencies_ms.append((time.perf_counter() - started) * 1000)
            calls = await sandboxes.calls()
            series.calls.append(
                Counter({f"{s} {e}": n for s, by in calls.items() for e, n in by.items()})
            )
    for name, pid in pids.items():
        series.cpu_ms[name] = (cpu_seconds(pid) - cpu_before[name]) * 1000 / runs
    rows = body["data"]["engagements"]["nodes" if warm_up else "edges"]
    if not warm_up and len(rows) != DASHBOARD_VARS["first"]:
        raise RuntimeError(f"dashboard returned {len(rows)} rows")
    return series, body


async def _traced_levels(urls: Mapping[str, str]) -> tuple[int, list[Call]]:
    """The gateway in this process, each backend call timed: the critical path."""
    calls: list[Call] = []
    settings = Settings(
        **{f"{n}_url": u for n, u in urls.items()},  # type: ignore[arg-type]
        as_of=date.fromisoformat("2026-10-31"),
    )
    app = create_app(settings, transports={n: TimedTransport(n, calls) for n in urls})
    lengths: list[int] = []
    chain: list[Call] = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw", timeout=60
        ) as client,
    ):
        await post_graphql(client, WARM_UP)
        await post_graphql(client, FINANCE_DASHBOARD, DASHBOARD_VARS)
        for _ in range(TRACED_RUNS):
            calls.clear()
            await post_graphql(client, FINANCE_DASHBOARD, DASHBOARD_VARS)
            chain = critical_path(calls)
            lengths.append(len(chain))
    return int(statistics.median_low(lengths)), chain


def _first_project_key(body: dict[str, Any]) -> str:
    for edge in body["data"]["engagements"]["edges"]:
        if edge["node"]["project"] is not None:
            return str(edge["node"]["key"])
    raise RuntimeError("no engagement with a project on the dashboard")


async def run_dashboard(urls: Mapping[str, str], sandboxes_pid: int) -> DashboardFigures:
    """Sandboxes at `urls` must be at 40 ms; they are left at 40 ms."""
    sandboxes = Sandboxes(urls)
    batched_gw: Proc | None = None
    naive_gw: Proc | None = None
    try:
        port = free_port()
        batched_gw = start_gateway(port, gateway_env(urls))
        url = f"http://127.0.0.1:{port}"
        pids = {"gateway": batched_gw.pid, "sandboxes": sandboxes_pid}
        # warm-up: vendor tokens, reference data, directories
        _, body = await _series(url, sandboxes, 1, pids)
        batched, _ = await _series(url, sandboxes, RUNS, pids)
        rss = memory_kib(batched_gw.pid)
        levels, chain = await _traced_levels(urls)
        await sandboxes.set_latency(0)
        zero, _ = await _series(url, sandboxes, ZERO_RUNS, pids)
        await sandboxes.set_latency(LATENCY_MS)
        batched_gw.stop()

        port = free_port()
        # The adapter's own Harvest throttle (100 / 15 s) is off, as the sandboxes'
        # limit is: the naive dashboard makes ~110 Harvest calls, so with it on
        # each request would also wait ~10 s for the sliding window. It takes
        # longer than the default request budget (8 s): that is raised too.
        naive_env = gateway_env(
            urls, naive_fanout="true", harvest_rate_limit="none", request_budget_s="120"
        )
        naive_gw = start_gateway(port, naive_env)
        url = f"http://127.0.0.1:{port}"
        pids = {"gateway": naive_gw.pid, "sandboxes": sandboxes_pid}
        await _series(url, sandboxes, 1, pids, warm_up=True)
        naive, _ = await _series(url, sandboxes, NAIVE_RUNS, pids)
        return DashboardFigures(_first_project_key(body), batched, zero, naive, levels, chain, rss)
    finally:
        for gw in (batched_gw, naive_gw):
            if gw is not None:
                gw.stop()
        await sandboxes.aclose()
