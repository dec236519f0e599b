"""The composition root: `create_app(settings)` wires everything together.

Clients (one adapter per system, the Redis store) are built here and closed
by the Starlette lifespan. No module-level clients, no import-time effects.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from adapters.redis_store import RedisCache, connect_redis, redis_ping
from adapters.store.keys import StoreKeys
from domain.observability import MetricsSink, NullMetrics
from gateway.auth import BearerAuthMiddleware, TokenAuthority, warn_if_demo_secret
from gateway.catalog import load_catalog
from gateway.config import Settings
from gateway.correlation import CorrelationIdMiddleware
from gateway.deadline import RequestDeadlineMiddleware
from gateway.governance_wiring import build_governed
from gateway.graphiql import STATIC_PREFIX, GraphiQLPage
from gateway.graphiql_examples import EXAMPLES
from gateway.graphql_http import GraphQLView
from gateway.inbound_wiring import build_inbound
from gateway.live_wiring import build_live
from gateway.metrics import HttpMetricsMiddleware, PrometheusMetrics, metrics_endpoint
from gateway.webhooks import WebhookEndpoint
from gateway.wiring import build_systems
from resolvers.context import ContextFactory
from resolvers.schema import schema
from workflows.reference import ReferenceData
from workflows.systems import check_systems

__all__ = ["create_app"]


def create_app(
    settings: Settings | None = None,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Starlette:
    """Build the gateway. `transports` routes a system's calls in-process (tests)."""
    settings = settings or Settings()
    systems = build_systems(settings, transports)
    redis = connect_redis(settings.redis_url, max_connections=settings.redis_max_connections)
    authority = TokenAuthority.from_settings(settings)
    warn_if_demo_secret(settings)
    # One registry per app, never prometheus-client's global one.
    prometheus = PrometheusMetrics(CollectorRegistry()) if settings.metrics_enabled else None
    metrics: MetricsSink = prometheus or NullMetrics()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        redis_ok, redis_problem = await redis_ping(redis, settings.readiness_timeout_s)
        health = await check_systems(systems, settings.readiness_timeout_s)
        ready = redis_ok and all(h.ok for h in health)
        body: dict[str, Any] = {
            "status": "ready" if ready else "not ready",
            "redis": {
                "ok": redis_ok,
                "embedded": settings.redis_url is None,
                "detail": redis_problem,
            },
            "systems": {h.system: h.model_dump(mode="json", exclude={"system"}) for h in health},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    reference = ReferenceData(
        systems, RedisCache(redis, settings.redis_prefix), settings.reference_ttl_s
    )
    governed = build_governed(
        settings, systems, redis, reference, load_catalog(settings.service_catalog_path), metrics
    )

    contexts = ContextFactory(
        systems=systems,
        reference=reference,
        options=settings.graph_options(),
        governance=governed.governance,
    )
    live = build_live(
        settings,
        schema=schema,
        systems=systems,
        redis=redis,
        reference=reference,
        exceptions=governed.store,
        authority=authority,
        contexts=contexts,
    )

    inbound = build_inbound(settings, systems, redis, governed)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await governed.start()  # resumes what a previous process left incomplete
        await live.start()  # the event hub: tails the stream for this process's subscribers
        inbound.start()  # poll loops of the inbound change sync (none at interval 0)
        try:
            yield
        finally:
            await inbound.stop()
            await live.stop()
            await governed.stop()
            await systems.aclose()
            await redis.aclose()

    webhooks = WebhookEndpoint(  # notices from the vendors that push; the sync re-reads
        secret=settings.webhook_secret,
        tolerance_s=settings.webhook_tolerance_s,
        redis=redis,
        keys=StoreKeys(settings.redis_prefix),
        sink=inbound,
    )
    graphiql = GraphiQLPage(EXAMPLES)
    graphql = GraphQLView(schema, contexts, graphiql=graphiql, live=live.transport, sse=live.sse)
    observed: list[BaseRoute] = []
    measured: list[Middleware] = []
    if prometheus is not None:
        observed = [Route("/metrics", metrics_endpoint(prometheus), methods=["GET"])]
        measured = [Middleware(HttpMetricsMiddleware, metrics=prometheus)]
    app = Starlette(
        routes=[
            *observed,
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/graphql", graphql),  # every method: the view answers 405 itself
            WebSocketRoute("/graphql", graphql),
            Route("/graphiql", graphiql.endpoint, methods=["GET"]),
            Mount(STATIC_PREFIX, graphiql.assets()),
            *webhooks.routes(),  # POST /webhooks/{salesforce,netsuite}
        ],
        middleware=[
            Middleware(CorrelationIdMiddleware),
            *measured,  # outside auth: refused requests are counted too
            Middleware(BearerAuthMiddleware, authority=authority),
            Middleware(RequestDeadlineMiddleware, budget_s=settings.request_budget_s),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.systems = systems
    app.state.redis = redis
    app.state.reference = reference
    app.state.metrics = metrics  # a MetricsSink for the workflows
    app.state.token_authority = authority
    app.state.governed = governed
    app.state.inbound = inbound  # the webhooks' ChangeSink
    app.state.live = live
    return app
