"""How long generating the demo firm takes: ``.venv/bin/python bench/bench_seed.py``."""

from __future__ import annotations

import statistics
import sys
import time

from sandboxes.seed import firm_summary, generate_firm

__all__ = ["main"]

RUNS = 5


def main(seed: int = 42) -> None:
    timings: list[float] = []
    for run in range(1, RUNS + 1):
        started = time.perf_counter()
        firm = generate_firm(seed)
        elapsed = (time.perf_counter() - started) * 1000
        timings.append(elapsed)
        print(f"run {run}: {elapsed:8.1f} ms")
    print(f"seed {seed}: min {min(timings):.1f} ms, median {statistics.median(timings):.1f} ms")
    summary = firm_summary(firm)
    print(", ".join(f"{name}={count}" for name, count in summary.items()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 42)
