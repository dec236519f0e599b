"""Crash safety of the activation saga: SIGKILL the gateway mid-run, restart it, count records.

The sandboxes run in a process of their own (`engagement-gateway sandbox all`),
the gateway in another (`engagement-gateway serve` on the real Redis, under a
key prefix of its own). 100 Closed Won deals are entered in the CRM through its
REST API, as a sales user would; `activateEngagement` is sent for all of them,
20 in flight at a time, while the gateway is killed with SIGKILL at seeded
random moments and restarted (see tests/e2e/crash_driver.py). In the end every
saga must have completed exactly once: one PSA workspace, one ERP job, one
billing schedule and each milestone once per engagement, no new ERP customer,
one distinct ``project.activated`` per engagement, nothing dead-lettered, no
activation lost.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.e2e.crash_driver import Driver
from tests.e2e.gateway_process import GatewayProcess
from tests.e2e.vendor_side import Census, VendorSide, plan_deals, sandbox_urls
from tests.redis_support import REAL_REDIS_URL

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(170)]

DEALS = 100
SEED = 20260
# A restarted gateway takes over an operation as soon as the dead one's lease lapses.
FAST_TAKEOVER = {"LEASE_MS": "1500", "RESUME_INTERVAL_S": "0.25", "STEP_BACKOFF_S": "0.01"}


def _engagement_of(milestone_ref: str) -> str:
    """`ENG-2099-00003` of `MS-ENG-2099-00003-2`."""
    return milestone_ref.removeprefix("MS-").rsplit("-", 1)[0]


def _mine(census: Census, keys: set[str]) -> dict[str, Counter[str]]:
    """The census of the engagements this test created, per kind of record."""

    def only(counter: Counter[str]) -> Counter[str]:
        return Counter({k: n for k, n in counter.items() if k in keys})

    return {
        "PSA workspaces": only(census.workspaces),
        "PSA workspace links": only(census.workspace_links),
        "ERP jobs": only(census.jobs),
        "ERP billing schedules": only(census.schedules),
    }


async def test_every_activation_completes_once_although_the_gateway_is_killed_mid_saga(
    redis_prefix: tuple[Redis, str], sandbox_base: int, tmp_path: Path
) -> None:
    redis, prefix = redis_prefix
    vendors = VendorSide(sandbox_urls(sandbox_base))
    gateway = GatewayProcess(sandbox_base, REAL_REDIS_URL, prefix, tmp_path, FAST_TAKEOVER)
    keys = [f"ENG-2099-{n:05d}" for n in range(1, DEALS + 1)]
    try:
        deals = plan_deals(keys, await vendors.activatable_accounts())
        await vendors.enter_won_deals(deals)
        before = await vendors.census()
        assert not any(_mine(before, set(keys)).values()), "the engagement keys are not fresh"
        await asyncio.to_thread(gateway.start)
        driver = Driver(gateway, redis, prefix, deals, seed=SEED)
        run = await asyncio.wait_for(driver.drive(), 140)
        summary = run.summary()
        print(f"\ncrash recovery: {summary}")
        assert not run.failures, summary
        assert run.kills >= 3 and sum(run.interrupted) > 0, summary
        statuses = await driver.statuses()
        assert Counter(statuses.values()) == {"SUCCEEDED": DEALS}, (statuses, summary)
        gateway.stop()  # nothing of the gateway's can still be writing when the census is taken
        after = await vendors.census()
        events = await driver.activated_events()
        dead_letters = await redis.zcard(f"{prefix}dlq:all")
        exceptions = await redis.zcard(f"{prefix}exc:all")
    finally:
        gateway.stop()
        await vendors.aclose()

    once = Counter(dict.fromkeys(keys, 1))
    for kind, counter in _mine(after, set(keys)).items():
        extra, missing = counter - once, once - counter
        assert counter == once, f"{kind}: {extra} extra, {missing} missing; {summary}"
    wanted = Counter({ref: 1 for deal in deals for ref in deal.milestone_refs})
    assert len(wanted) >= 30, "MILESTONE deals with their lines are part of the run"
    milestones = Counter({r: n for r, n in after.milestones.items() if _engagement_of(r) in keys})
    assert milestones == wanted, (milestones - wanted, wanted - milestones, summary)
    assert after.customers == before.customers, (after.customers - before.customers, summary)
    assert after.customer_names == before.customer_names, summary
    assert {key: len(ids) for key, ids in events.items()} == dict(once), (events, summary)
    assert (dead_letters, exceptions) == (0, 0), summary
