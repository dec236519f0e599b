"""The billing run over the whole seeded firm, timed: ``.venv/bin/python -m bench.bench_billing``.

For every ACTIVE engagement of the demo firm, ``generateInvoice`` through the
firm's last day, then ``postInvoice`` for every draft, through the GraphQL
mutations (FINANCE token, at most 16 in flight) of an in-process gateway over
the four in-process sandboxes (0 ms latency, embedded Redis, Harvest's pacing
off: it measures the gateway's billing path, not the vendor's throttle).
Printed: wall time, engagements, drafts generated, invoices posted, blocked
engagements by violation code, vendor calls per system.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sandboxes.seed import generate_firm
from tests.billing_support import run_billing
from tests.governance_support import FAST
from tests.graph_support import AS_OF, graph_client

__all__ = ["main"]


async def _run(seed: int) -> None:
    firm = generate_firm(seed)
    keys = [e.key for e in firm.engagements if e.status == "ACTIVE"]
    options = {"harvest": {"rate_limit": None, "report_rate_limit": None}}
    async with graph_client(firm, options, harvest_rate_limit=None, **FAST) as client:
        run = await run_billing(client, keys, AS_OF)
    posted = Counter(p["__typename"] for p in run.posted.values())
    blocked = Counter(f"{g.get('code')} ({g.get('ownerRole')})" for g in run.blocked().values())
    nothing = sum(1 for g in run.generated.values() if g.get("code") == "NOTHING_TO_BILL")
    print(f"billing run through {AS_OF} over seed {seed}: wall time {run.seconds:.2f} s")
    print(f"  engagements (ACTIVE in the firm): {len(run.generated)}")
    print(f"  drafts generated: {len(run.drafts())}; nothing to bill: {nothing}")
    print(
        f"  invoices posted: {posted.get('InvoicePosted', 0)} (postInvoice answers {dict(posted)})"
    )
    print(f"  blocked by violation: {dict(blocked) or 'none'}")
    total = sum(run.calls.values())
    print(f"  vendor calls: {total} ({', '.join(f'{k} {v}' for k, v in run.calls.items())})")


def main(seed: int = 42) -> None:
    started = time.monotonic()
    asyncio.run(_run(seed))
    print(f"(bench_billing took {time.monotonic() - started:.1f} s, seed generation included)")


if __name__ == "__main__":
    main()
