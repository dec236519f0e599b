"""`python -m bench`: every benchmark, one after another, figures printed."""

from __future__ import annotations

from bench import (
    bench_activation,
    bench_billing,
    bench_get_many,
    bench_graph,
    bench_inbound,
    bench_seed,
    bench_subscriptions,
)


def main() -> None:
    print("== seed generation ==", flush=True)
    bench_seed.main()
    print("\n== get_many of 500 per adapter, sandboxes at 30 ms latency ==", flush=True)
    bench_get_many.main()
    print("\n== engagement graph (issue 4): dashboard, overhead, profiles ==", flush=True)
    bench_graph.main()
    print("\n== billing run over the seeded firm (generate + post every active engagement) ==")
    bench_billing.main()
    print("\n== activations per second over HTTP, sandboxes at 20 ms, real Redis ==", flush=True)
    bench_activation.main([])
    print("\n== live state (issue 6): subscribers on one gateway, real Redis ==", flush=True)
    bench_subscriptions.main([])
    print("\n== inbound sync lag: vendor change -> canonical event, 1 s polling ==", flush=True)
    bench_inbound.main([])


if __name__ == "__main__":
    main()
