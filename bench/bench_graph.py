"""The engagement graph's performance figures (issue 4), printed.

1. Finance dashboard at 40 ms backends: calls, p50/p95, levels, the ratio to
   the slowest dependency chain, the naive baseline, the gateway's peak RSS.
2. Gateway overhead: `engagement(key)` at 0 ms backends, uvicorn 1 and 2 workers.
3. pyinstrument profiles of both, top frames by own time (bench/out/).

Everything runs on 127.0.0.1: the four sandboxes (`bench.sandboxes`, one
process) and each gateway as subprocesses on free ports.
``.venv/bin/python -m bench.bench_graph``
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

from bench.graph_dashboard import LATENCY_MS, DashboardFigures, Series, run_dashboard
from bench.graph_overhead import OverheadRun, run_overhead
from bench.graph_profile import Profile, run_profiles
from bench.measure import Sandboxes, percentile
from bench.procs import SYSTEMS, sandbox_urls, start_sandboxes
from tests.e2e.support import free_port_block

__all__ = ["main"]


def _by_system(calls: Counter[str]) -> str:
    per = Counter({s: 0 for s in SYSTEMS})
    for where, n in calls.items():
        per[where.split(" ", 1)[0]] += n
    return ", ".join(f"{s} {n}" for s, n in per.items())


def _calls(series: Series) -> str:
    totals = "/".join(str(n) for n in sorted({sum(c.values()) for c in series.calls}))
    return f"  backend calls per request: {totals} ({_by_system(series.calls[0])})"


def _latency(series: Series) -> str:
    lat = series.latencies_ms
    return (
        f"p50 {series.p50:.1f} ms, p95 {series.p95:.1f} ms "
        f"(min {min(lat):.1f}, max {max(lat):.1f}; n={len(lat)})"
    )


def _cpu(series: Series) -> str:
    each = ", ".join(f"{name} {ms:.0f} ms" for name, ms in series.cpu_ms.items())
    return f"    CPU per request: {each}"


def _print_dashboard(d: DashboardFigures) -> None:
    print(f"batched: {len(d.batched.latencies_ms)} sequential requests after 1 warm-up")
    print(_calls(d.batched))
    for where, n in sorted(d.batched.calls[0].items()):
        print(f"    {n} x {where}")
    print(f"  latency: {_latency(d.batched)}")
    print(_cpu(d.batched))
    print(f"  overhead (same requests, sandboxes at 0 ms): {_latency(d.zero)}")
    print(_cpu(d.zero))
    slope = (d.batched.p50 - d.zero.p50) / LATENCY_MS
    print(f"  levels, observed critical path: {d.levels}")
    for call in d.chain:
        print(f"    {call.system:<10} {call.endpoint:<45} {(call.end - call.start) * 1000:6.1f} ms")
    print(f"  levels, slope (p50@40ms - p50@0ms) / 40 ms: {slope:.2f}")
    chain_ms = d.levels * LATENCY_MS + d.zero.p50
    ratio = d.batched.p50 / chain_ms
    print(
        f"  slowest dependency chain = {d.levels} x {LATENCY_MS:g} ms + {d.zero.p50:.1f} ms"
        f" = {chain_ms:.1f} ms; p50 / chain = {ratio:.2f} (target <= 1.2)"
    )
    hwm, rss = d.rss_kib["VmHWM"] / 1024, d.rss_kib["VmRSS"] / 1024
    print(f"  gateway peak RSS during the batched runs: VmHWM {hwm:.1f} MiB (VmRSS {rss:.1f} MiB)")
    runs = len(d.naive.latencies_ms)
    settings = "EG_NAIVE_FANOUT=true, EG_HARVEST_RATE_LIMIT=none, EG_REQUEST_BUDGET_S=120"
    print(f"naive ({settings}): {runs} requests after a warm-up")
    print(_calls(d.naive))
    print(f"  latency: {_latency(d.naive)}")
    print(_cpu(d.naive))
    print(
        f"  naive / batched: calls x{d.naive.calls_per_request / d.batched.calls_per_request:.1f},"
        f" p50 latency x{d.naive.p50 / d.batched.p50:.1f}"
    )


def _print_overhead(runs: list[OverheadRun]) -> None:
    for r in runs:
        lat = r.load.latencies_ms
        cpu = ", ".join(f"{k} {v:.1f}s" for k, v in r.cpu_s.items())
        workers = f"{r.workers} worker{'s' if r.workers > 1 else ' '}"
        conn = "keep-alive" if r.keepalive else "no keep-alive"
        print(
            f"  uvicorn {workers}  concurrency {r.concurrency:>2}, {conn:<13}: n={len(lat):>4}"
            f"  p50 {percentile(lat, 50):6.2f} ms  p99 {percentile(lat, 99):6.2f} ms"
            f"  {r.load.rps:6.1f} req/s   cpu [{cpu}] in {r.load.wall_s:.1f}s"
        )
        if r.worker_cpu_s:
            shares = " / ".join(f"{s:.1f}s" for s in r.worker_cpu_s)
            print(f"    cpu per uvicorn worker: {shares}")


def _print_profile(p: Profile) -> None:
    busy = p.duration_s - p.idle_s
    print(
        f"{p.name}: {p.duration_s:.2f} s profiled, {p.idle_s:.2f} s idle in the event loop,"
        f" {busy:.2f} s busy; text tree in {p.text_path.relative_to(p.text_path.parents[2])}"
    )
    print("  top 10 frames by own time:")
    for where, own in p.top:
        print(f"  {own * 1000:8.1f} ms  {100 * own / busy:5.1f}%  {where}")
    print("  total time under selected frames:")
    for label, total in p.watched.items():
        print(f"  {total * 1000:8.1f} ms  {100 * total / busy:5.1f}%  {label}")


async def _run() -> None:
    base = free_port_block(4)
    urls = sandbox_urls(base)
    sandbox_proc = start_sandboxes(base, LATENCY_MS)
    try:
        print(f"== finance dashboard (first 100), sandboxes at {LATENCY_MS:g} ms ==", flush=True)
        dashboard = await run_dashboard(urls, sandbox_proc.pid)
        _print_dashboard(dashboard)
        control = Sandboxes(urls)
        await control.set_latency(0)
        await control.aclose()
        print(f"\n== gateway overhead: engagement(key: {dashboard.key!r}), 0 ms backends ==")
        _print_overhead(await run_overhead(urls, dashboard.key, sandbox_proc.pid))
        print("\n== profiles (pyinstrument, gateway process only, 0 ms backends) ==", flush=True)
        for profile in await run_profiles(urls, dashboard.key):
            _print_profile(profile)
    finally:
        sandbox_proc.stop()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    started = time.monotonic()
    print(f"(2-core machine; load average before: {_load()})")
    asyncio.run(_run())
    took = time.monotonic() - started
    print(f"\n(bench_graph took {took:.0f} s; load average after: {_load()})")


if __name__ == "__main__":
    main()
