"""Gateway overhead: `engagement(key)` with 0 ms backends, under uvicorn.

The gateway runs as `uvicorn --factory gateway.app:create_app --workers N`
(Settings from EG_* env vars); the load comes from this process (one httpx
AsyncClient, `concurrency` connections, a bounded number of requests). Each
request costs two backend calls (CRM opportunity, then PSA project). CPU
seconds of the client, the gateway (all workers) and the sandboxes are
reported so a saturated side shows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from bench.measure import Load, run_load
from bench.procs import Proc, cpu_seconds, gateway_env, start_uvicorn
from tests.e2e.support import free_port

__all__ = ["OVERHEAD_QUERY", "OverheadRun", "run_overhead"]

OVERHEAD_QUERY = "query One($key: String!) { engagement(key: $key) { key name status } }"
WARM_REQUESTS = 50
LATENCY_REQUESTS = {1: 300, 50: 500}
THROUGHPUT_REQUESTS = 1500
CONCURRENCY = 50
TIME_LIMIT_S = 45.0


@dataclass
class OverheadRun:
    workers: int
    concurrency: int
    load: Load
    cpu_s: dict[str, float]  # client, gateway, sandboxes


async def _measured(
    url: str, key: str, requests: int, concurrency: int, gateway: Proc, sandboxes_pid: int
) -> tuple[Load, dict[str, float]]:
    pids = {"gateway": gateway.pid, "sandboxes": sandboxes_pid}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    client_before = time.process_time()
    load = await run_load(
        url,
        OVERHEAD_QUERY,
        {"key": key},
        requests=requests,
        concurrency=concurrency,
        time_limit_s=TIME_LIMIT_S,
    )
    cpu = {"client": time.process_time() - client_before}
    cpu.update({name: cpu_seconds(pid) - before[name] for name, pid in pids.items()})
    return load, cpu


async def run_overhead(
    urls: Mapping[str, str], key: str, sandboxes_pid: int
) -> list[OverheadRun]:
    """Sandboxes at `urls` must be at 0 ms latency."""
    runs: list[OverheadRun] = []
    for workers in (1, 2):
        port = free_port()
        gateway = start_uvicorn(port, workers, gateway_env(urls))
        url = f"http://127.0.0.1:{port}"
        try:
            await run_load(
                url, OVERHEAD_QUERY, {"key": key}, requests=WARM_REQUESTS, concurrency=workers * 4
            )
            plan = [*LATENCY_REQUESTS.items()] if workers == 1 else []
            plan.append((CONCURRENCY, THROUGHPUT_REQUESTS))
            for concurrency, requests in plan:
                load, cpu = await _measured(
                    url, key, requests, concurrency, gateway, sandboxes_pid
                )
                runs.append(OverheadRun(workers, concurrency, load, cpu))
        finally:
            gateway.stop()
    return runs
