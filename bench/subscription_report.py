"""The figures of a bench_subscriptions run: gathered from its clients' tallies, printed."""

from __future__ import annotations

import argparse
import array
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.event_publisher import bench_keys
from bench.measure import percentile

__all__ = ["Figures", "Run", "report"]


@dataclass
class Run:
    """Figures of one run, filled in as it goes."""

    transport: str
    gateway_rss_mib: list[float] = field(default_factory=list)  # sampled VmRSS
    setup_s: float = 0.0
    published: list[tuple[int, float]] = field(default_factory=list)  # (key index, time)
    publish_s: float = 0.0
    gateway_cpu_s: float = 0.0
    clients_cpu_s: float = 0.0
    peak_rss_mib: float = 0.0
    setup_rss_mib: float = 0.0  # VmRSS once every subscription is ready
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # load average when publishing began


@dataclass(frozen=True, slots=True)
class Figures:
    """What a run is judged by."""

    expected: int  # messages: events x the subscribers each one matches
    received: int  # distinct messages that arrived
    duplicates: int
    failed_subscribers: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    peak_rss_mib: float

    @property
    def lost(self) -> int:
        return self.expected - self.received


def _expected(args: argparse.Namespace, run: Run, tallies: list[dict[str, Any]]) -> int:
    per_key: dict[int, int] = {}
    for index, _ in run.published:
        per_key[index] = per_key.get(index, 0) + 1
    keys = bench_keys(args.keys)
    return sum(
        len(run.published) if key is None else per_key.get(keys.index(key), 0)
        for tally in tallies
        for key in tally["keys"]
    )


def report(args: argparse.Namespace, run: Run, results: list[Path]) -> Figures:
    """Print the run's figures (from the clients' result files) and return them."""
    tallies = [json.loads(path.read_text()) for path in results]
    latencies, sequence = array.array("d"), array.array("q")
    for path in results:
        latencies.frombytes(Path(f"{path}.lat").read_bytes())
        sequence.frombytes(Path(f"{path}.seq").read_bytes())
    expected = _expected(args, run, tallies)
    received = sum(sum(t["unique"]) for t in tallies)
    duplicates = sum(t["duplicates"] for t in tallies)
    ended_by: dict[str, int] = {}
    for tally in tallies:
        for why, n in tally["ended_by"].items():
            ended_by[why] = ended_by.get(why, 0) + n
    failures = [f for t in tallies for f in t["failures"]]
    events = len(run.published)
    watch = "every event" if not args.keys else f"1 of {args.keys} engagements"
    print(
        f"{args.subscribers} {args.transport} subscribers in {len(tallies)} client process(es),"
        f" each watching {watch}; {args.rate:g} events/s for {args.seconds:g} s"
        f" (load average before: {' '.join(f'{x:.2f}' for x in run.load)})"
    )
    print(f"  set-up: {args.subscribers} subscriptions ready in {run.setup_s:.1f} s")
    print(f"  published {events} events in {run.publish_s:.1f} s ({events / run.publish_s:.1f}/s)")
    lost = expected - received
    print(
        f"  messages: expected {expected}, received {received}, lost {lost},"
        f" duplicates {duplicates}; operations ended early {sum(ended_by.values())} {ended_by},"
        f" resubscribed {sum(t['resubscribes'] for t in tallies)},"
        f" reconnected {sum(t['reconnects'] for t in tallies)},"
        f" failed subscribers {len(failures)}, without end marker"
        f" {sum(t['not_ended'] for t in tallies)}"
    )
    for failure in failures[:3]:
        print(f"    {failure}")
    p99 = percentile(latencies, 99)
    print(
        "  latency publish -> client:"
        + "".join(f" p{q} {percentile(latencies, q):.1f} ms," for q in (50, 95, 99))
        + f" max {max(latencies, default=float('nan')):.1f} ms (n={len(latencies)})"
    )
    window = max(int(args.rate * args.window_s), 1)  # events published in one window
    windows: dict[int, list[float]] = {}
    for seq, latency in zip(sequence, latencies, strict=True):
        windows.setdefault(seq // window, []).append(latency)
    print(
        f"    p99 per {args.window_s:g} s of publishing:"
        + ",".join(f" {percentile(windows[w], 99):.0f}" for w in sorted(windows))
        + " ms"
    )
    rss = run.gateway_rss_mib
    print(
        f"  gateway: peak RSS (VmHWM) {run.peak_rss_mib:.1f} MiB; RSS {min(rss, default=0):.1f}"
        f" MiB idle, {run.setup_rss_mib:.1f} MiB with every subscriber set up,"
        f" {max(rss, default=0):.1f} MiB at most while publishing;"
        f" CPU {run.gateway_cpu_s:.1f} s in the {run.publish_s:.0f} s run"
        f" ({100 * run.gateway_cpu_s / run.publish_s:.0f}% of a core);"
        f" clients' CPU {run.clients_cpu_s:.1f} s"
    )
    peak_mb = run.peak_rss_mib * 1.048576
    verdict = {"p99 <= 50 ms": p99 <= 50, "lost 0": lost == 0, "RSS <= 300 MB": peak_mb <= 300}
    print("  goals: " + ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in verdict.items()))
    return Figures(
        expected=expected,
        received=received,
        duplicates=duplicates,
        failed_subscribers=len(failures),
        p50_ms=percentile(latencies, 50),
        p99_ms=p99,
        max_ms=max(latencies, default=float("nan")),
        peak_rss_mib=run.peak_rss_mib,
    )
