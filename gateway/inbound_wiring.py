"""Wiring the inbound change sync: one feed per system, its store, its poll loops.

`InboundSync.start()` runs in the app's lifespan after the governed transitions
started (a won deal runs through their runner) and `stop()` before they stop.
"""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from adapters.store.sync_state import RedisSyncState
from domain.sync import MilestoneChanges, OpportunityChanges, PaymentChanges, TimeEntryChanges
from gateway.config import Settings
from gateway.governance_wiring import Governed
from workflows.inbound import InboundSync
from workflows.inbound_feeds import MilestoneStates, PaymentApplications, TimeApprovals
from workflows.inbound_win import OpportunityWins
from workflows.systems import Systems

__all__ = ["build_inbound"]


def _now() -> datetime:
    return datetime.now(UTC)


def build_inbound(
    settings: Settings, systems: Systems, redis: Redis, governed: Governed
) -> InboundSync:
    crm, time, psa, erp = systems.crm, systems.time, systems.psa, systems.erp
    if not (
        isinstance(crm, OpportunityChanges)
        and isinstance(time, TimeEntryChanges)
        and isinstance(psa, MilestoneChanges)
        and isinstance(erp, PaymentChanges)
    ):
        raise TypeError("an adapter lacks the change feed the inbound sync reads")
    store = RedisSyncState(redis, settings.redis_prefix)
    return InboundSync(
        feeds=[
            OpportunityWins(crm, governed.governance.transitions),
            TimeApprovals(time, store),
            MilestoneStates(psa, store),
            PaymentApplications(erp, store),
        ],
        store=store,
        journal=governed.store,
        clock=_now,
        poll_interval_s=settings.sync_poll_interval_s,
        overlap_s=settings.sync_overlap_s,
        prime=settings.webhook_secret is not None,
    )
