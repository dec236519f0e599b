"""Profiles of the gateway (pyinstrument) for the dashboard and the overhead query.

Each workload runs against its own `bench.profiled_gateway` process, with
the sandboxes at 0 ms so that the profile is the gateway's CPU, not waiting.
The profiler is on only while the workload runs (after a warm-up). Outputs
go to bench/out/ (gitignored): `profile-<name>.txt` and `.top.json`.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.graph_dashboard import DASHBOARD_VARS, WARM_UP
from bench.graph_overhead import OVERHEAD_QUERY
from bench.measure import post_graphql, run_load
from bench.procs import BIN, ROOT, Proc, gateway_env
from gateway.graphiql_examples import FINANCE_DASHBOARD
from tests.e2e.support import free_port

__all__ = ["OUT", "Profile", "run_profiles"]

OUT = ROOT / "bench" / "out"
DASHBOARD_RUNS = 10
OVERHEAD_REQUESTS, OVERHEAD_CONCURRENCY = 500, 10
IDLE = ("epoll.poll  ",)  # the event loop waiting for sockets


@dataclass
class Profile:
    name: str
    text_path: Path
    duration_s: float
    idle_s: float
    top: list[tuple[str, float]]  # (function  file:line, own seconds), idle excluded
    watched: dict[str, float]  # total seconds under selected frames (profiled_gateway.WATCHED)


def _profiled(name: str, urls: Mapping[str, str]) -> tuple[Proc, str]:
    port = free_port()
    argv = [str(BIN / "python"), "-m", "bench.profiled_gateway", "--port", str(port)]
    proc = Proc([*argv, "--out", str(OUT / f"profile-{name}")], gateway_env(urls))
    proc.wait_for("ready", timeout_s=60)
    return proc, f"http://127.0.0.1:{port}"


def _read(name: str) -> Profile:
    summary = json.loads((OUT / f"profile-{name}.top.json").read_text(encoding="utf-8"))
    own: dict[str, float] = summary["own_s"]
    idle = sum(s for where, s in own.items() if where.startswith(IDLE))
    busy = [(w, s) for w, s in own.items() if not w.startswith(IDLE)]
    path = OUT / f"profile-{name}.txt"
    return Profile(name, path, summary["duration_s"], idle, busy[:10], summary["inclusive_s"])


async def _dashboard(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for _ in range(DASHBOARD_RUNS):
            await post_graphql(client, FINANCE_DASHBOARD, DASHBOARD_VARS)


async def run_profiles(urls: Mapping[str, str], key: str) -> list[Profile]:
    """Sandboxes at `urls` must be at 0 ms latency."""
    profiles: list[Profile] = []
    for name in ("dashboard", "overhead"):
        proc, url = _profiled(name, urls)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=120) as client:
                await post_graphql(client, WARM_UP)
                await post_graphql(client, FINANCE_DASHBOARD, DASHBOARD_VARS)
                await post_graphql(client, OVERHEAD_QUERY, {"key": key})
            proc.signal(signal.SIGUSR1)
            proc.wait_for("profiling", timeout_s=10)
            if name == "dashboard":
                await _dashboard(url)
            else:
                await run_load(
                    url,
                    OVERHEAD_QUERY,
                    {"key": key},
                    requests=OVERHEAD_REQUESTS,
                    concurrency=OVERHEAD_CONCURRENCY,
                )
            proc.signal(signal.SIGUSR2)
            proc.wait_for("profile written", timeout_s=60)
        finally:
            proc.stop()
        profiles.append(_read(name))
    return profiles
