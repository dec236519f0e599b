"""Inbound sync lag: ``.venv/bin/python -m bench.bench_inbound [--mode poll|webhooks|both]``.

How long a change made directly in a vendor system takes to become a
canonical event on the firm's stream. The four sandboxes run in a process of
their own (``python -m bench.sandboxes``: seeded, Harvest unthrottled, every
call delayed --latency-ms), the gateway in another (``engagement-gateway
serve`` on the real Redis at EG_TEST_REDIS_URL, under a key prefix of its
own, deleted afterwards) with ``EG_SYNC_POLL_INTERVAL_S=1``.

A user then works in each vendor's own API, one change at a time, the systems
in turn: a submitted Harvest time entry approved (``time.approved``), a
Kantata milestone completed (``milestone.completed``), a NetSuite customer
payment applied to an open invoice (``payment.received``), an open Salesforce
opportunity set to Closed Won (``opportunity.won``, or ``opportunity.rejected``
when its pre-win checks fail: the same governed checks as closeWin). The lag
of a change runs from the vendor's answer to the write to the moment Redis
appended its event (the stream entry id's milliseconds; same host, same
clock). Between changes a seeded random pause of 0-1 s spreads the changes
over the poll cycle. One change per system first warms up (not measured).

``--mode webhooks`` also sets EG_WEBHOOK_SECRET and registers the Salesforce
and NetSuite sandboxes' webhooks with the gateway (Harvest and Kantata cannot
push: they stay polled). Goal (issue 6): lag <= 2 s with 1 s polling.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path

from redis.asyncio import Redis

from bench.inbound_vendors import SYSTEMS, Change, StreamWatch, VendorUser
from bench.measure import percentile
from bench.procs import start_sandboxes
from tests.e2e.gateway_process import GatewayProcess
from tests.e2e.support import free_port_block
from tests.redis_support import REAL_REDIS_URL

__all__ = ["main"]

WEBHOOK_SECRET = "bench-inbound-webhook-secret-0123456789"
EVENT_WAIT_S = 30.0  # a change whose event takes longer fails the run


async def _measure(vendors: VendorUser, watch: StreamWatch, change: Change, system: str) -> float:
    """Make one change; the lag (s) until its event was on the stream."""
    done_at, wanted = await vendors.make(change, system)
    appended_at = await watch.wait_for(wanted, EVENT_WAIT_S, what=f"{system} {change}")
    return appended_at - done_at


async def _run(args: argparse.Namespace, mode: str, workdir: Path) -> None:
    base = free_port_block(4)
    sandboxes = start_sandboxes(base, args.latency_ms)
    prefix = f"eg-bench:{uuid.uuid4().hex}:"
    redis: Redis = Redis.from_url(REAL_REDIS_URL, decode_responses=True)
    settings = {"SYNC_POLL_INTERVAL_S": f"{args.poll_s:g}"}
    if mode == "webhooks":
        settings["WEBHOOK_SECRET"] = WEBHOOK_SECRET
    gateway = GatewayProcess(base, REAL_REDIS_URL, prefix, workdir, settings)
    vendors = VendorUser(base, random.Random(args.seed))
    watch = StreamWatch(redis, f"{prefix}events")
    tail = asyncio.create_task(watch.run())
    try:
        await redis.ping()
        plan = await vendors.plan(args.changes // len(SYSTEMS) + 1)
        await asyncio.to_thread(gateway.start)
        if mode == "webhooks":
            await vendors.register_webhooks(gateway.url, WEBHOOK_SECRET)
        pause = random.Random(args.seed)
        for system in SYSTEMS:  # warm-up: the sync loops are running, tokens fetched
            await _measure(vendors, watch, plan[system].pop(), system)
        lags: dict[str, list[float]] = {system: [] for system in SYSTEMS}
        for n in range(args.changes):
            system = SYSTEMS[n % len(SYSTEMS)]
            await asyncio.sleep(pause.uniform(0, args.poll_s))  # a random phase of the poll
            lags[system].append(await _measure(vendors, watch, plan[system].pop(), system))
        _report(args, mode, lags)
        if mode == "webhooks":
            print(f"  webhook deliveries by status: {await vendors.webhook_deliveries()}")
    finally:
        watch.stop()
        await tail
        gateway.stop()
        sandboxes.stop()
        await vendors.aclose()
        stale = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if stale:
            await redis.delete(*stale)
        await redis.aclose()


def _report(args: argparse.Namespace, mode: str, lags: dict[str, list[float]]) -> None:
    every = [lag for found in lags.values() for lag in found]
    pushed = " (Salesforce and NetSuite push webhooks)" if mode == "webhooks" else ""
    print(
        f"{len(every)} vendor changes, one at a time, polling every {args.poll_s:g} s{pushed},"
        f" sandboxes at {args.latency_ms:g} ms"
    )
    print(
        f"  lag vendor change -> event on the stream: p50 {percentile(every, 50):.2f} s,"
        f" p99 {percentile(every, 99):.2f} s, max {max(every):.2f} s"
    )
    for system, found in lags.items():
        print(
            f"    {system:<10} n={len(found):<3} p50 {percentile(found, 50):.2f} s,"
            f" max {max(found):.2f} s"
        )
    verdict = "met" if max(every) <= 2.0 else "MISSED"
    print(f"  goal: lag <= 2 s {verdict} (worst {max(every):.2f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_inbound")
    parser.add_argument("--mode", choices=["poll", "webhooks", "both"], default="both")
    parser.add_argument("--changes", type=int, default=40, help="measured, systems in turn")
    parser.add_argument("--poll-s", type=float, default=1.0, help="EG_SYNC_POLL_INTERVAL_S")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="each vendor call")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)
    for mode in ["poll", "webhooks"] if args.mode == "both" else [args.mode]:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="bench-inbound-") as workdir:
            asyncio.run(_run(args, mode, Path(workdir)))
        print(f"(bench_inbound {mode} took {time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
