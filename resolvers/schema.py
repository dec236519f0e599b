"""The GraphQL schema of the engagement graph: an Apollo Federation v2 subgraph.

Engagement (by ``key``), Customer, Project and Invoice (by their Relay global
``id``) are entities: a supergraph router resolves them through ``_entities``
and reads the subgraph SDL from ``_service { sdl }``. Federation 2 is the only
kind strawberry builds (its old ``enable_federation_2`` flag is gone); the spec
version in the SDL's ``@link`` is pinned here so a strawberry upgrade cannot
change what the supergraph router is told.
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import StrawberryException
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext

from domain.errors import DomainError
from resolvers.mutations import Mutation
from resolvers.queries import Query
from resolvers.subscriptions import Subscription

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "PerEventExecutor", "schema"]

MAX_ALIASES = 15  # each alias of a list field is a fan-out of its own
MAX_DEPTH = 10

logger = logging.getLogger("resolvers.schema")


class GraphSchema(strawberry.federation.Schema):
    """Expected outcomes (a system down, a bad cursor, an unknown key) are answers,
    not incidents: they go to the client, and only unexpected errors are logged."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is None or isinstance(
                original, GraphQLError | StrawberryException | DomainError
            ):
                logger.debug("answered with an error: %s", error.message)
            else:
                super().process_errors([error], execution_context)


class PerEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core 3.3 runs each subscription event on a shallow copy of the operation's
    executor, and the copies share its sub-field memo, keyed by the id of a field list
    rebuilt for every event: the memo gains an entry per delivered message, kept for the
    subscription's life (about 2 KB a message; 2,000 subscribers grew by 120 MiB a
    minute). Each event's copy gets a memo of its own, dropped with the event."""

    def build_per_event_executor(self, payload: Any) -> PerEventExecutor:
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, PerEventExecutor)
        executor._relevant_sub_fields = {}
        return executor


# The limiters' rules are built once: each limiter instance makes rule classes of its
# own, and fresh classes per request would defeat the validation cache below.
_LIMIT_RULES = [
    *MaxAliasesLimiter(MAX_ALIASES).validation_rules,
    *QueryDepthLimiter(MAX_DEPTH).validation_rules,
]

schema = GraphSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    federation_version="2.11",
    execution_context_class=PerEventExecutor,
    extensions=[
        lambda: AddValidationRules(_LIMIT_RULES),
        # Dashboards send the same documents again and again: parsing and validating
        # them was 30 % of a small query's time (bench/RESULTS.md). Bounded caches.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ],
)
