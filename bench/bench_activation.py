"""Activations per second, end to end: ``.venv/bin/python -m bench.bench_activation``.

The four sandboxes run in a process of their own (``engagement-gateway sandbox
all --latency-ms 20``), the gateway in another (``engagement-gateway serve`` on
the real Redis at EG_TEST_REDIS_URL, under a key prefix of its own, deleted
afterwards). N Closed Won deals are entered in the CRM through its REST API
(every billing model in turn; MILESTONE deals with three dated lines), one
more activation warms the gateway up (OAuth tokens, reference data), then
``activateEngagement`` runs for the N deals over HTTP, `concurrency` in flight.
Printed: activations/s, p50/p95 latency of one activation (request to answer),
vendor calls per activation by system and endpoint (the sandboxes'
``/__sandbox/calls``, counted from after the warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from redis.asyncio import Redis

from bench.measure import Sandboxes, percentile
from domain.governance import Role
from tests.e2e.gateway_process import GatewayProcess, bearer, clean_env
from tests.e2e.support import CliProcess, free_port_block
from tests.e2e.vendor_side import VendorSide, plan_deals, sandbox_urls
from tests.redis_support import REAL_REDIS_URL

__all__ = ["main"]

_VERSION = re.compile(r"^v\d+(\.\d+)?$")

ACTIVATE = """mutation($eng: String!, $key: String) {
  activateEngagement(engagementKey: $eng, idempotencyKey: $key) {
    __typename ... on EngagementActivated { billingScheduleId } } }"""


async def _activate(http: httpx.AsyncClient, headers: dict[str, str], key: str) -> float:
    """One activation; its latency in ms. Anything but EngagementActivated fails the run."""
    started = time.perf_counter()
    response = await http.post(
        "/graphql",
        json={"query": ACTIVATE, "variables": {"eng": key, "key": f"bench-{key}"}},
        headers=headers,
    )
    elapsed = (time.perf_counter() - started) * 1000
    body = response.json()
    answer = (body.get("data") or {}).get("activateEngagement") or {}
    if answer.get("__typename") != "EngagementActivated":
        raise RuntimeError(f"{key}: {body}")
    return elapsed


def _shape(endpoint: str) -> str:
    """``PUT .../customer/eid:CUST-0001`` -> ``PUT .../customer/{id}``: one line per route."""
    method, _, path = endpoint.partition(" ")
    segments = [
        "{id}"
        if part.startswith("eid:") or (re.search(r"\d", part) and not _VERSION.match(part))
        else part
        for part in path.split("/")
    ]
    return f"{method} {'/'.join(segments)}"


def _print_calls(calls: dict[str, dict[str, int]], n: int) -> None:
    total = sum(sum(by.values()) for by in calls.values())
    per = ", ".join(f"{system} {sum(by.values()) / n:.1f}" for system, by in calls.items())
    print(f"  vendor calls per activation: {total / n:.1f} ({per})")
    endpoints: Counter[str] = Counter()
    for system, by in calls.items():
        for endpoint, count in by.items():
            endpoints[f"{system} {_shape(endpoint)}"] += count
    for endpoint, count in endpoints.most_common():
        print(f"    {count / n:5.2f} x {endpoint}")


async def _run(n: int, concurrency: int, latency_ms: float, workdir: Path) -> None:
    base = free_port_block(4)
    urls = sandbox_urls(base)
    argv = ["sandbox", "all", "--port", str(base), "--latency-ms", f"{latency_ms:g}"]
    sandboxes = CliProcess([*argv, "--seed", "42"], cwd=workdir, env=clean_env())
    prefix = f"eg-bench:{uuid.uuid4().hex}:"
    redis: Redis = Redis.from_url(REAL_REDIS_URL, decode_responses=True)
    gateway = GatewayProcess(base, REAL_REDIS_URL, prefix, workdir)
    vendors = VendorSide(urls)
    control = Sandboxes(urls)
    try:
        await redis.ping()
        sandboxes.wait_for_line("ready", timeout_s=60)
        keys = [f"ENG-2098-{i:05d}" for i in range(n + 1)]  # the first warms the gateway up
        deals = plan_deals(keys, await vendors.activatable_accounts())
        await vendors.enter_won_deals(deals)
        await asyncio.to_thread(gateway.start)
        headers = bearer("bench-pmo", Role.PMO)
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=gateway.url, timeout=120, limits=limits) as http:
            await _activate(http, headers, keys[0])
            await control.reset_calls()
            gate = asyncio.Semaphore(concurrency)

            async def one(key: str) -> float:
                async with gate:
                    return await _activate(http, headers, key)

            started = time.perf_counter()
            latencies = await asyncio.gather(*(one(key) for key in keys[1:]))
            wall = time.perf_counter() - started
        calls = await control.calls()
        models = Counter(d.billing_model for d in deals[1:])
        print(
            f"{n} activations over HTTP, {concurrency} in flight, sandboxes at {latency_ms:g} ms,"
            f" real Redis; deals by billing model {dict(models)}"
        )
        print(f"  wall time {wall:.2f} s: {n / wall:.1f} activations/s")
        print(
            f"  latency of one activation: p50 {percentile(latencies, 50):.0f} ms,"
            f" p95 {percentile(latencies, 95):.0f} ms"
            f" (min {min(latencies):.0f}, max {max(latencies):.0f})"
        )
        _print_calls(calls, n)
    finally:
        gateway.stop()
        sandboxes.stop()
        await vendors.aclose()
        await control.aclose()
        stale = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if stale:
            await redis.delete(*stale)
        await redis.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_activation")
    parser.add_argument("--n", type=int, default=100, help="activations measured")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-activation-") as workdir:
        asyncio.run(_run(args.n, args.concurrency, args.latency_ms, Path(workdir)))
    print(f"(bench_activation took {time.monotonic() - started:.1f} s, setup included)")


if __name__ == "__main__":
    main()
