"""The four seeded sandboxes for benchmarks, without Harvest's rate limits.

Like ``engagement-gateway sandbox all --port N --latency-ms L --seed S``, except
that Harvest's 100 requests / 15 s and 100 reports / 15 min limits are off
(as in the test suite's naive-mode test): the naive baseline alone makes ~150
Harvest calls per dashboard request, and a benchmark measures the gateway,
not the vendor's throttle. Latency can still be changed at run time through
each sandbox's ``POST /__sandbox/faults``.

``.venv/bin/python -m bench.sandboxes --port N [--latency-ms 40] [--seed 42]``
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from gateway.servers import Served, serve_all
from sandboxes import SANDBOX_NAMES, create_sandbox_app
from sandboxes.control import Faults
from sandboxes.seed import generate_firm

__all__ = ["main"]

UNTHROTTLED: dict[str, dict[str, Any]] = {
    "harvest": {"rate_limit": None, "report_rate_limit": None},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandboxes")
    parser.add_argument("--port", type=int, required=True, help="salesforce..netsuite on N..N+3")
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    firm = generate_firm(args.seed)
    served = [
        Served(
            name,
            create_sandbox_app(
                name,
                firm,
                faults=Faults(latency_ms=args.latency_ms),
                seed=args.seed,
                **UNTHROTTLED.get(name, {}),
            ),
            "127.0.0.1",
            args.port + offset,
        )
        for offset, name in enumerate(SANDBOX_NAMES)
    ]
    return asyncio.run(serve_all(served, on_ready=lambda: print("ready", flush=True)))


if __name__ == "__main__":
    raise SystemExit(main())
