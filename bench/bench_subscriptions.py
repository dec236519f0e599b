"""Live delivery at scale: ``.venv/bin/python -m bench.bench_subscriptions [--transport ws]``.

One gateway process (``engagement-gateway serve`` on the real Redis at
EG_TEST_REDIS_URL, under a key prefix of its own, deleted afterwards) and N
`engagementEvents` subscribers held by separate load-client processes
(``python -m bench.subscribers``, N / --clients each, so the clients do not
share the gateway's core). Each subscriber is a principal of its own and
watches one of --keys engagements (--keys 0: every event, unfiltered). A
publisher in this process commits `time.approved` events at --rate per second
for --seconds straight onto the firm's stream through the product's journal
(bench.event_publisher), about the engagements in turn; each event's `time`
is its publish moment, and each client measures receipt - `time` for every
message it gets.

Printed: messages expected (events x the subscribers each one matches) and
received, lost and duplicated ones, resubscriptions (e.g. a SLOW_CONSUMER
end) and reconnections, latency publish -> client p50/p95/p99/max, the
gateway's peak RSS (VmHWM) and CPU, the clients' CPU and the machine's load.
Goals (issue 6): p99 <= 50 ms, nothing lost, RSS <= 300 MB.

``--smoke``: 50 subscribers, 5 s, one client process — a quick end-to-end run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

from redis.asyncio import Redis

from bench.event_publisher import Publisher, bench_keys
from bench.procs import Proc, cpu_seconds, gateway_env, memory_kib, sandbox_urls, start_gateway
from bench.subscription_report import Figures, Run, report
from tests.e2e.gateway_process import JWT_SECRET
from tests.e2e.support import free_port, free_port_block
from tests.redis_support import REAL_REDIS_URL

__all__ = ["main", "run"]

SUBJECTS = 100  # engagements the events are about when subscribers are unfiltered


async def _sample_rss(pid: int, run: Run, stop: asyncio.Event) -> None:
    while not stop.is_set():
        run.gateway_rss_mib.append(memory_kib(pid).get("VmRSS", 0) / 1024)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def _publish(publisher: Publisher, args: argparse.Namespace, run: Run) -> None:
    """--rate events per second for --seconds, paced on a fixed schedule (no drift)."""
    subjects = bench_keys(args.keys or SUBJECTS)
    total = int(args.rate * args.seconds)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for seq in range(total):
        delay = start + seq / args.rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        index = seq % len(subjects)
        run.published.append((index, await publisher.publish(subjects[index], f"bench-{seq}")))
    run.publish_s = loop.time() - start


async def _until_ready(clients: list[Proc], publisher: Publisher, args: argparse.Namespace) -> None:
    """Wait for every client's "ready"; live-only subscribers are primed by a round of
    primers each second until all have one (those still connecting miss the earlier)."""
    deadline = time.monotonic() + args.setup_s
    waiting = list(clients)
    rounds = 0
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError(f"subscribers not ready in {args.setup_s:g} s")
        if not args.replay:
            rounds += 1
            await _markers(publisher, args.keys, f"primer-{rounds}")
        try:
            await asyncio.to_thread(waiting[0].wait_for, "ready", 1.0)
        except RuntimeError:
            if waiting[0].proc.poll() is not None:
                raise
            continue
        waiting.pop(0)


async def _markers(publisher: Publisher, keys: int, kind: str) -> None:
    """One `primer-*` / `end-*` event per watched engagement (one in all when unfiltered).
    Tags are unique: an event announcing a fact already announced is not published."""
    for n, key in enumerate(bench_keys(keys or 1)):
        await publisher.publish(key, f"{kind}-{n}")


def _client(args: argparse.Namespace, url: str, span: range, after: str | None, out: Path) -> Proc:
    argv = [
        sys.executable, "-m", "bench.subscribers", "--url", url, "--transport", args.transport,
        "--first", str(span.start), "--count", str(len(span)), "--keys", str(args.keys),
        *(["--after", after] if after else []), "--result", str(out),
        "--drain-s", str(args.drain_s),
        "--connect-concurrency", str(args.connect_concurrency),
        "--deflate" if args.deflate else "--no-deflate",
    ]  # fmt: skip
    return Proc(argv)


async def _run(args: argparse.Namespace, workdir: Path) -> Figures:
    prefix = f"eg-bench:{uuid.uuid4().hex}:"
    redis: Redis = Redis.from_url(REAL_REDIS_URL, decode_responses=True)
    publisher = Publisher(redis, prefix)
    run = Run(args.transport)
    settings = {
        "redis_url": REAL_REDIS_URL,
        "redis_prefix": prefix,
        "jwt_secret": JWT_SECRET,
        "sync_poll_interval_s": "0",  # no vendor systems here: no inbound polling
    }
    env = gateway_env(sandbox_urls(free_port_block(4)), **settings, **dict(args.set))
    gateway: Proc | None = None
    clients: list[Proc] = []
    stop_sampling = asyncio.Event()
    try:
        await redis.ping()
        await publisher.open()
        origin = None
        if args.replay:  # every subscription replays from here: primers are already there
            await publisher.publish(bench_keys(1)[0], "origin")
            origin = await publisher.last_cursor()
            await _markers(publisher, args.keys, "primer")
        port = free_port()
        gateway = await asyncio.to_thread(start_gateway, port, env)
        sampler = asyncio.create_task(_sample_rss(gateway.pid, run, stop_sampling))
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        share = -(-args.subscribers // args.clients)
        for n, first in enumerate(range(0, args.subscribers, share)):
            span = range(first, min(first + share, args.subscribers))
            clients.append(_client(args, url, span, origin, workdir / f"client-{n}.json"))
        await _until_ready(clients, publisher, args)
        run.setup_s = time.monotonic() - started
        run.setup_rss_mib = memory_kib(gateway.pid).get("VmRSS", 0) / 1024
        cpu = cpu_seconds(gateway.pid), sum(cpu_seconds(c.pid) for c in clients)
        run.load = os.getloadavg()
        await _publish(publisher, args, run)
        run.gateway_cpu_s = cpu_seconds(gateway.pid) - cpu[0]
        run.clients_cpu_s = sum(cpu_seconds(c.pid) for c in clients) - cpu[1]
        await _markers(publisher, args.keys, "end")
        for client in clients:
            client.signal(signal.SIGUSR1)
        for client in clients:
            await asyncio.to_thread(client.wait_for, "done", args.drain_s + 60)
        run.peak_rss_mib = memory_kib(gateway.pid).get("VmHWM", 0) / 1024
        stop_sampling.set()
        await sampler
        return report(args, run, [workdir / f"client-{n}.json" for n in range(len(clients))])
    finally:
        stop_sampling.set()
        for client in clients:
            client.stop()
        if gateway is not None:
            gateway.stop()
        stale = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if stale:
            await redis.delete(*stale)
        await redis.aclose()


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.lower().removeprefix("eg_"), value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_subscriptions")
    parser.add_argument("--transport", choices=["ws", "sse", "both"], default="both")
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=2, help="load-client processes")
    parser.add_argument("--keys", type=int, default=100, help="engagements watched; 0: all")
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--setup-s", type=float, default=180.0, help="time allowed to connect")
    parser.add_argument("--window-s", type=float, default=10.0, help="p99 per window")
    parser.add_argument("--drain-s", type=float, default=30.0, help="time allowed to catch up")
    parser.add_argument("--connect-concurrency", type=int, default=50, help="per client")
    parser.add_argument(
        "--replay", action="store_true", help="subscribe from a cursor before the primers"
    )
    parser.add_argument("--deflate", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--set", type=_setting, action="append", default=[], metavar="EG_X=V")
    parser.add_argument("--smoke", action="store_true", help="50 subscribers, 5 s, 1 client")
    return parser


def run(argv: list[str]) -> dict[str, Figures]:
    """Run the bench for each transport asked; the figures of each (they are printed too)."""
    args = _parser().parse_args(argv)
    if args.smoke:
        args.subscribers, args.seconds, args.clients, args.keys = 50, 5.0, 1, min(args.keys, 10)
    found: dict[str, Figures] = {}
    for transport in ["ws", "sse"] if args.transport == "both" else [args.transport]:
        started = time.monotonic()
        args.transport = transport
        with tempfile.TemporaryDirectory(prefix="bench-subscriptions-") as workdir:
            found[transport] = asyncio.run(_run(args, Path(workdir)))
        print(f"(bench_subscriptions {transport} took {time.monotonic() - started:.1f} s)")
    return found


def main(argv: list[str] | None = None) -> None:
    run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
