"""The gateway served as by `engagement-gateway serve`, with pyinstrument on demand.

SIGUSR1 starts the profiler (prints "profiling"); SIGUSR2 stops it and writes
``<out>.txt`` (pyinstrument's text tree), ``<out>.top.json`` (frames by own
time) and ``<out>.pyisession`` (the whole session: ``pyinstrument --load``),
then prints "profile written". Only the gateway's own process is
sampled: the load generator and the sandboxes run elsewhere.

``.venv/bin/python -m bench.profiled_gateway --port N --out bench/out/NAME``
(Settings from EG_* env vars)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections import defaultdict
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame import Frame

from gateway.app import create_app
from gateway.config import Settings
from gateway.servers import Served, serve_all

__all__ = ["WATCHED", "inclusive_times", "main", "own_times"]

# Subtrees whose total time the benchmark reports: (label, function, file suffix).
# Resolvers and loader batches awaited in other asyncio tasks are not under
# `_execute_operation` (their stacks start at the event loop).
WATCHED = (
    ("strawberry: parse + validate the document", "_prepare_operation_async", "schema/schema.py"),
    ("  of which graphql-core validate()", "validate", "graphql/validation/validate.py"),
    ("strawberry: execute (its own stack)", "_execute_operation", "schema/schema.py"),
    ("vendor HTTP calls (VendorClient.request)", "request", "adapters/http.py"),
    ("imports at request time (httpcore: sniffio)", "_find_and_load", "importlib._bootstrap>"),
    ("Harvest time entries", "get_time_entries_by_engagement", "harvest/client.py"),
)


def own_times(root: Frame) -> dict[str, float]:
    """Seconds spent in each function itself (not in its callees), most first."""
    totals: defaultdict[str, float] = defaultdict(float)
    stack = [root]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.is_synthetic:
            continue
        own = frame.total_self_time
        if own > 0:
            where = f"{frame.function}  {frame.file_path_short}:{frame.line_no}"
            totals[where] += own
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))


def inclusive_times(root: Frame) -> dict[str, float]:
    """Total time under each WATCHED frame (outermost occurrences only)."""
    totals = dict.fromkeys((label for label, _, _ in WATCHED), 0.0)

    def walk(frame: Frame, inside: frozenset[str]) -> None:
        for label, function, suffix in WATCHED:
            if label in inside or frame.function != function:
                continue
            if (frame.file_path or "").endswith(suffix) or frame.file_path_short == suffix:
                totals[label] += frame.time
                inside = inside | {label}
        for child in frame.children:
            walk(child, inside)

    walk(root, frozenset())
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiled_gateway")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="path prefix of the outputs")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    app = create_app(Settings())
    profiler = Profiler(interval=0.0005, async_mode="disabled")

    def start() -> None:
        profiler.start()
        print("profiling", flush=True)

    def stop() -> None:
        session = profiler.stop()
        out.with_suffix(".txt").write_text(
            profiler.output_text(unicode=False, color=False, show_all=False), encoding="utf-8"
        )
        session.save(str(out.with_suffix(".pyisession")))
        root = session.root_frame()
        top = own_times(root) if root is not None else {}
        summary = {
            "duration_s": session.duration,
            "own_s": dict(list(top.items())[:60]),
            "inclusive_s": inclusive_times(root) if root is not None else {},
        }
        out.with_suffix(".top.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        print("profile written", flush=True)

    def ready() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, start)
        loop.add_signal_handler(signal.SIGUSR2, stop)
        print("ready", flush=True)

    gateway = Served("gateway", app, "127.0.0.1", args.port)
    return asyncio.run(serve_all([gateway], on_ready=ready))


if __name__ == "__main__":
    raise SystemExit(main())
