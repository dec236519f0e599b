"""Gateway overhead: `engagement(key)` with 0 ms backends, under uvicorn.

The gateway runs as `uvicorn --factory gateway.app:create_app --workers N`
(Settings from EG_* env vars); the load comes from this process (one httpx
AsyncClient, `concurrency` connections, a bounded number of requests). Each
request costs two backend calls (CRM opportunity, then PSA project). CPU
seconds of the client, the gateway (all workers, and each worker) and the
sandboxes are reported so a saturated or idle side shows. Keep-alive
connections opened at once tend to be accepted by one worker; the runs
without keep-alive (a connection per request) spread over the workers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from bench.measure import Load, run_load
from bench.procs import (
    Proc,
    cpu_seconds,
    gateway_env,
    machine_busy_seconds,
    start_uvicorn,
    worker_pids,
)
from tests.e2e.support import free_port

__all__ = ["OVERHEAD_QUERY", "OverheadRun", "run_overhead"]

OVERHEAD_QUERY = "query One($key: String!) { engagement(key: $key) { key name status } }"
WARM_REQUESTS = 50
CONCURRENCY = 50
# (workers, concurrency, requests, keep-alive)
PLAN = (
    (1, 1, 300, True),
    (1, CONCURRENCY, 1500, True),
    (1, CONCURRENCY, 1500, False),
    (2, CONCURRENCY, 1500, True),
    (2, CONCURRENCY, 1500, False),
)
TIME_LIMIT_S = 45.0


@dataclass
class OverheadRun:
    workers: int
    concurrency: int
    keepalive: bool
    load: Load
    cpu_s: dict[str, float]  # client, gateway (all workers), sandboxes, other processes
    worker_cpu_s: list[float]  # each uvicorn worker's share, when there are several


async def _measured(
    url: str,
    key: str,
    run: tuple[int, int, int, bool],
    gateway: Proc,
    sandboxes_pid: int,
) -> OverheadRun:
    workers_n, concurrency, requests, keepalive = run
    pids = {"gateway": gateway.pid, "sandboxes": sandboxes_pid}
    workers = worker_pids(gateway.pid)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    workers_before = [cpu_seconds(pid) for pid in workers]
    client_before = time.process_time()
    machine_before = machine_busy_seconds()
    load = await run_load(
        url,
        OVERHEAD_QUERY,
        {"key": key},
        requests=requests,
        concurrency=concurrency,
        keepalive=keepalive,
        time_limit_s=TIME_LIMIT_S,
    )
    cpu = {"client": time.process_time() - client_before}
    cpu.update({name: cpu_seconds(pid) - before[name] for name, pid in pids.items()})
    cpu["others"] = max(0.0, machine_busy_seconds() - machine_before - sum(cpu.values()))
    per_worker = [cpu_seconds(pid) - b for pid, b in zip(workers, workers_before, strict=True)]
    return OverheadRun(workers_n, concurrency, keepalive, load, cpu, per_worker)


async def run_overhead(urls: Mapping[str, str], key: str, sandboxes_pid: int) -> list[OverheadRun]:
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
            for run in (r for r in PLAN if r[0] == workers):
                runs.append(await _measured(url, key, run, gateway, sandboxes_pid))
        finally:
            gateway.stop()
    return runs
