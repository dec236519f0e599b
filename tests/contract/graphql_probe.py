"""A tiny schema mounted in the gateway's GraphQL view, to provoke every HTTP rule.

It has a mutation (the product schema has none yet), fields that fail on
purpose in each way a resolver can fail, and a counter proving whether a
mutation ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from strawberry.types import Info

from domain.errors import NotFound
from gateway.correlation import CorrelationIdMiddleware
from gateway.graphiql import STATIC_PREFIX, GraphiQLPage
from gateway.graphiql_examples import EXAMPLES
from gateway.graphql_http import GraphQLView

__all__ = ["PROBE_SCHEMA", "SECRET", "Probe", "ProbeContext", "probe_app", "probe_client"]

SECRET = "password=hunter2"


@dataclass
class ProbeContext:
    correlation_id: str
    touched: list[str] = field(default_factory=list)


ProbeInfo = Info[ProbeContext, None]


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"

    @strawberry.field
    def correlation(self, info: ProbeInfo) -> str:
        return info.context.correlation_id

    @strawberry.field
    def boom(self) -> str | None:
        raise RuntimeError(f"connection to db failed ({SECRET})")

    @strawberry.field
    def boom_required(self) -> str:
        raise KeyError(SECRET)

    @strawberry.field
    def upstream(self, info: ProbeInfo) -> str | None:
        raise GraphQLError(
            "salesforce: unavailable after 3 attempts",
            extensions={
                "code": "UPSTREAM_UNAVAILABLE",
                "system": "salesforce",
                "correlationId": info.context.correlation_id,
            },
        )

    @strawberry.field
    def missing(self) -> str | None:
        raise NotFound("no engagement ENG-2026-99999", system="kantata")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self, info: ProbeInfo) -> int:
        info.context.touched.append("touch")
        return len(info.context.touched)


PROBE_SCHEMA = strawberry.Schema(query=Query, mutation=Mutation)


@dataclass
class Probe:
    """The mounted view and every context it made (to see what ran)."""

    contexts: list[ProbeContext] = field(default_factory=list)

    def make_context(self, correlation_id: str, principal: object = None) -> ProbeContext:
        context = ProbeContext(correlation_id)
        self.contexts.append(context)
        return context

    @property
    def touched(self) -> list[str]:
        return [t for c in self.contexts for t in c.touched]


def probe_app(probe: Probe, assets: Path) -> Starlette:
    graphiql = GraphiQLPage(EXAMPLES, root=assets)
    view = GraphQLView(PROBE_SCHEMA, probe.make_context, graphiql=graphiql)
    return Starlette(
        routes=[
            Route("/graphql", view),
            Route("/graphiql", graphiql.endpoint, methods=["GET"]),
            Mount(STATIC_PREFIX, graphiql.assets()),
        ],
        middleware=[Middleware(CorrelationIdMiddleware)],
    )


def probe_client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe")
