"""The gateway served as by `engagement-gateway serve`, with pyinstrument on demand.

SIGUSR1 starts the profiler (prints "profiling"); SIGUSR2 stops it and writes
``<out>.txt`` (pyinstrument's text tree) and ``<out>.top.json`` (frames by own
time), then prints "profile written". Only the gateway's own process is
sampled: the load generator and the sandboxes run elsewhere.

``.venv/bin/python -m bench.profiled_gateway --port N --out bench/out/NAME``
(Settings from EG_* env vars)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections import Counter
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame import Frame

from gateway.app import create_app
from gateway.config import Settings
from gateway.servers import Served, serve_all

__all__ = ["main", "own_times"]


def own_times(root: Frame) -> Counter[str]:
    """Seconds spent in each function itself (not in its callees), over the tree."""
    totals: Counter[str] = Counter()
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
        root = session.root_frame()
        top = own_times(root) if root is not None else Counter()
        summary = {"duration_s": session.duration, "own_s": dict(top.most_common(60))}
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
