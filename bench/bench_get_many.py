"""Batch reads per adapter against real sandboxes with 30 ms latency.

Starts `engagement-gateway sandbox all` as a subprocess (real HTTP on free
ports), then for each adapter times one batch read of ~500 records and reads
the sandbox's /__sandbox/calls to count what it cost.
``.venv/bin/python -m bench.bench_get_many [latency_ms]``
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sized
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from domain.ids import EngagementKey, RecordId
from gateway.config import Settings
from gateway.wiring import build_systems
from tests.e2e.support import CliProcess, free_port_block
from workflows.systems import Systems

__all__ = ["main"]

NAMES = ("salesforce", "kantata", "harvest", "netsuite")


async def _calls(base: str) -> tuple[int, dict[str, int]]:
    async with httpx.AsyncClient(base_url=base) as client:
        body = (await client.get("/__sandbox/calls")).json()
        await client.post("/__sandbox/calls/reset")
    return body["total"], body["by_endpoint"]


async def _measure(
    label: str, base: str, action: Callable[[], Awaitable[Sized]]
) -> tuple[str, int, int, float]:
    await _calls(base)  # zero the counters
    started = time.perf_counter()
    result = await action()
    elapsed = (time.perf_counter() - started) * 1000
    total, by_endpoint = await _calls(base)
    endpoints = ", ".join(f"{k} x{v}" for k, v in sorted(by_endpoint.items()))
    print(
        f"  {label:<52} {len(result):>5} records {total:>3} calls {elapsed:8.1f} ms  [{endpoints}]"
    )
    return label, len(result), total, elapsed


async def _run(urls: dict[str, str]) -> None:
    settings = Settings(**{f"{n}_url": u for n, u in urls.items()})  # type: ignore[arg-type]
    systems: Systems = build_systems(settings)
    try:
        # Ids to ask for are gathered first; those calls are not counted.
        opportunities = await systems.crm.list_opportunities()
        opp_ids = [RecordId(o.id) for o in opportunities][:500]
        keys = sorted(
            {
                EngagementKey(o.engagement_key)
                for o in opportunities
                if o.engagement_key and o.is_won
            }
        )
        entries = await systems.time.get_time_entries_by_engagement(keys)
        entry_ids = [RecordId(e.id) for e in entries][:: max(1, len(entries) // 500)][:500]
        invoices = await systems.erp.get_invoices_by_engagement(keys)
        invoice_ids = [RecordId(i.id) for i in invoices][:500]
        await _measure(
            f"salesforce get_opportunities({len(opp_ids)} ids)",
            urls["salesforce"],
            lambda: systems.crm.get_opportunities(opp_ids),
        )
        await _measure(
            f"salesforce get_opportunities_by_engagement({len(keys)})",
            urls["salesforce"],
            lambda: systems.crm.get_opportunities_by_engagement(keys),
        )
        await _measure(
            f"kantata get_projects_by_engagement({len(keys)} keys)",
            urls["kantata"],
            lambda: systems.psa.get_projects_by_engagement(keys),
        )
        await _measure(
            f"kantata get_milestones({len(keys)} keys)",
            urls["kantata"],
            lambda: systems.psa.get_milestones(keys),
        )
        await _measure(
            f"harvest get_time_entries({len(entry_ids)} ids)",
            urls["harvest"],
            lambda: systems.time.get_time_entries(entry_ids),
        )
        await _measure(
            f"netsuite get_invoices({len(invoice_ids)} ids)",
            urls["netsuite"],
            lambda: systems.erp.get_invoices(invoice_ids),
        )
    finally:
        await systems.aclose()


def main(latency_ms: float = 30.0) -> None:
    base = free_port_block(4)
    with TemporaryDirectory() as workdir:
        process = CliProcess(
            [
                "sandbox",
                "all",
                "--port",
                str(base),
                "--seed",
                "42",
                "--latency-ms",
                str(latency_ms),
            ],
            cwd=Path(workdir),
        )
        try:
            process.wait_for_line("ready", timeout_s=60)
            urls = {name: f"http://127.0.0.1:{base + i}" for i, name in enumerate(NAMES)}
            print(f"sandboxes at {latency_ms:g} ms latency per request")
            asyncio.run(_run(urls))
        finally:
            process.stop()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)
