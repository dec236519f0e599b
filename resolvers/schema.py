"""The GraphQL schema of the engagement graph: an Apollo Federation v2 subgraph.

Engagement (by ``key``), Customer, Project and Invoice (by their Relay global
``id``) are entities: a supergraph router resolves them through ``_entities``
and reads the subgraph SDL from ``_service { sdl }``. Federation 2 is the only
kind strawberry builds (its old ``enable_federation_2`` flag is gone); the spec
version in the SDL's ``@link`` is pinned here so a strawberry upgrade cannot
change what the supergraph router is told.
"""

from __future__ import annotations

import strawberry

from resolvers.queries import Query

__all__ = ["schema"]

schema = strawberry.federation.Schema(query=Query, federation_version="2.11")
