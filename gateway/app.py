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
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from adapters.redis_store import connect_redis, redis_ping
from gateway.config import Settings
from gateway.correlation import CorrelationIdMiddleware
from gateway.wiring import build_systems
from resolvers.context import Context, ContextFactory
from resolvers.schema import schema
from workflows.systems import check_systems

__all__ = ["create_app"]


class _GraphQLApp(GraphQL[Context, None]):
    def __init__(self, make_context: ContextFactory) -> None:
        super().__init__(schema)
        self._make_context = make_context

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return self._make_context(request.scope.get("state", {}).get("correlation_id", ""))


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
        redis_ok, redis_problem = await redis_ping(redis)
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

    graphql = _GraphQLApp(
        ContextFactory(systems=systems, health_timeout_s=settings.readiness_timeout_s)
    )
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[Middleware(CorrelationIdMiddleware)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.systems = systems
    app.state.redis = redis
    return app
