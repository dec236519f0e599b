"""The composition root: `create_app(settings)` wires everything together.

Clients (one adapter per system, the Redis store) are built here and closed
by the Starlette lifespan. No module-level clients, no import-time effects.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute

from adapters.redis_store import RedisCache, connect_redis, redis_ping
from gateway.config import Settings
from gateway.correlation import CorrelationIdMiddleware
from gateway.deadline import RequestDeadlineMiddleware
from gateway.graphiql import STATIC_PREFIX, GraphiQLPage
from gateway.graphiql_examples import EXAMPLES
from gateway.graphql_http import GraphQLView
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
    redis = connect_redis(settings.redis_url)

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

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await systems.aclose()
            await redis.aclose()

    reference = ReferenceData(
        systems, RedisCache(redis, settings.redis_prefix), settings.reference_ttl_s
    )
    graphiql = GraphiQLPage(EXAMPLES)
    graphql = GraphQLView(
        schema,
        ContextFactory(systems=systems, reference=reference, options=settings.graph_options()),
        graphiql=graphiql,
    )
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/graphql", graphql),  # every method: the view answers 405 itself
            WebSocketRoute("/graphql", graphql),
            Route("/graphiql", graphiql.endpoint, methods=["GET"]),
            Mount(STATIC_PREFIX, graphiql.assets()),
        ],
        middleware=[
            Middleware(CorrelationIdMiddleware),
            Middleware(RequestDeadlineMiddleware, budget_s=settings.request_budget_s),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.systems = systems
    app.state.redis = redis
    app.state.reference = reference
    return app
