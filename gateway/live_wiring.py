"""Wiring the live feed: the event log, the process's event hub, the transports' shared rules.

`LiveFeed.start()` runs in the app's lifespan (after the governed transitions
start): the hub finds the end of the stream, then tails it and applies its
retention until `stop()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from strawberry.schema.base import BaseSchema

from adapters.store.event_log import EventLog
from domain.governance import Principal
from gateway.auth import TokenAuthority
from gateway.config import Settings
from gateway.graphql_sse import SSEEndpoint
from gateway.graphql_ws import ConnectionCaps, LiveTransport
from resolvers.context import Context
from resolvers.subscriptions_context import EngagementEntities, ExceptionSource, Live, LiveContext
from workflows.live import EventHub
from workflows.reference import ReferenceData
from workflows.systems import Systems

__all__ = ["LiveFeed", "build_live"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LiveFeed:
    hub: EventHub
    transport: LiveTransport
    sse: SSEEndpoint

    async def start(self) -> None:
        await self.hub.start()

    async def stop(self) -> None:
        await self.hub.stop()


def build_live(
    settings: Settings,
    *,
    schema: BaseSchema,
    systems: Systems,
    redis: Redis,
    reference: ReferenceData,
    exceptions: ExceptionSource,
    authority: TokenAuthority,
    contexts: Callable[[str, Principal | None], Context],
) -> LiveFeed:
    log = EventLog(redis, settings.redis_prefix)
    hub = EventHub(
        feed=log,
        clock=_now,
        queue_size=settings.subscriber_queue_size,
        retention_s=settings.event_retention_s,
        maxlen=settings.event_stream_maxlen,
        trim_interval_s=settings.event_trim_interval_s,
    )
    live = Live(
        hub=hub,
        log=log,
        exceptions=exceptions,
        reference=reference,
        entities=EngagementEntities(systems, settings.reference_ttl_s),
    )

    def make_context(correlation_id: str, principal: Principal | None) -> LiveContext:
        return LiveContext.of(contexts(correlation_id, principal), live)

    transport = LiveTransport(
        authority=authority,
        caps=ConnectionCaps(settings.max_connections_per_principal),
        make_context=make_context,
        max_subscriptions=settings.max_subscriptions_per_connection,
        init_timeout_s=settings.ws_init_timeout_s,
    )
    return LiveFeed(hub=hub, transport=transport, sse=SSEEndpoint(schema, transport))
