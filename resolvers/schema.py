"""The GraphQL schema: queries over the engagement graph."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.system_types import SystemStatus
from workflows.systems import check_systems

__all__ = ["Query", "schema"]


@strawberry.type
class Query:
    @strawberry.field(description="Health and latency of each system behind the gateway.")
    async def systems(self, info: Info) -> list[SystemStatus]:
        ctx = info.context
        health = await check_systems(ctx.systems, ctx.health_timeout_s)
        return [SystemStatus.from_model(h) for h in health]


schema = strawberry.Schema(query=Query)
