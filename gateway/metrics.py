"""Prometheus metrics: the workflows' `MetricsSink`, HTTP request metrics, `GET /metrics`.

Everything is registered in a `CollectorRegistry` that `create_app` builds, one
per app, never in prometheus-client's global default registry: two apps in one
process (tests, benchmarks) count apart.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HttpMetricsMiddleware", "PrometheusMetrics", "metrics_endpoint"]

UNMATCHED = "<unmatched>"  # the route label of a request no route answers (404)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class PrometheusMetrics:
    """The gateway's metrics, registered in `registry`.

    Satisfies `domain.observability.MetricsSink`: hand it to the workflows.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._transitions = Counter(
            "eg_transitions",
            "Governed transitions, by transition and outcome.",
            ["transition", "outcome"],
            registry=registry,
        )
        self._saga_steps = Counter(
            "eg_saga_steps",
            "Saga steps, by step and outcome.",
            ["step", "outcome"],
            registry=registry,
        )
        self._dead_letters = Counter(
            "eg_dead_letters",
            "Operations dead-lettered after exhausting their retries.",
            ["operation"],
            registry=registry,
        )
        self._dead_letter_replays = Counter(
            "eg_dead_letter_replays",
            "Dead-letter replays, by operation and outcome.",
            ["operation", "outcome"],
            registry=registry,
        )
        self._business_exceptions = Counter(
            "eg_business_exceptions",
            "Business exceptions raised, by code and the role that must act.",
            ["code", "owner_role"],
            registry=registry,
        )
        self._idempotent_replays = Counter(
            "eg_idempotent_replays",
            "Repeated requests answered from their idempotency record.",
            ["operation"],
            registry=registry,
        )
        self.http_requests = Counter(
            "eg_http_requests",
            "HTTP requests, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "eg_http_request_duration_seconds",
            "HTTP request latency until the response is complete, by method and route template.",
            ["method", "route"],
            registry=registry,
        )

    def transition(self, name: str, outcome: str) -> None:
        self._transitions.labels(name, outcome).inc()

    def saga_step(self, step: str, outcome: str) -> None:
        self._saga_steps.labels(step, outcome).inc()

    def dead_lettered(self, operation: str) -> None:
        self._dead_letters.labels(operation).inc()

    def dead_letter_replayed(self, operation: str, outcome: str) -> None:
        self._dead_letter_replays.labels(operation, outcome).inc()

    def business_exception(self, code: str, owner_role: str) -> None:
        self._business_exceptions.labels(code, str(owner_role)).inc()

    def idempotent_replay(self, operation: str) -> None:
        self._idempotent_replays.labels(operation).inc()

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """(every metric, its media type): the text format, or OpenMetrics if `accept` asks."""
        encode, media_type = choose_encoder(accept or "")
        return encode(self.registry), media_type


def metrics_endpoint(metrics: PrometheusMetrics) -> Callable[[Request], Awaitable[Response]]:
    """`GET /metrics`: the Prometheus text format (version 0.0.4) unless Accept asks otherwise."""

    async def endpoint(request: Request) -> Response:
        body, media_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, media_type=media_type)

    return endpoint


def _route_template(scope: Scope) -> str:
    """The template of the route that answered (`/graphql`), never the raw path."""
    route = scope.get("route")
    if route is None:  # refused before routing (401): find the route it was meant for
        app = scope.get("app")
        routes: list[BaseRoute] = list(getattr(app, "routes", []))
        route = next((r for r in routes if r.matches(scope)[0] is not Match.NONE), None)
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class HttpMetricsMiddleware:
    """Pure ASGI middleware: count HTTP requests and time them, by route template.

    Only `http` scopes are measured; WebSocket connections pass untouched.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: PrometheusMetrics,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self.clock()
        status = 500  # unless a response starts

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = _route_template(scope)
            self.metrics.http_requests.labels(method, route, str(status)).inc()
            self.metrics.http_duration.labels(method, route).observe(self.clock() - started)
