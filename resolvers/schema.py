"""The GraphQL schema of the engagement graph: an Apollo Federation v2 subgraph.

Engagement (by ``key``), Customer, Project and Invoice (by their Relay global
``id``) are entities: a supergraph router resolves them through ``_entities``
and reads the subgraph SDL from ``_service { sdl }``.
"""

from __future__ import annotations

import strawberry

from resolvers.queries import Query

__all__ = ["schema"]

schema = strawberry.federation.Schema(query=Query)
