"""Root subscription fields: the event stream, engagement snapshots, business exceptions.

Each field checks what it was asked before it subscribes (the caller, the
filter, the cursor), so a bad request is answered with an error at once and
nothing is registered. The streams themselves live in
`resolvers.subscriptions_feeds`.

Subscribing needs an authenticated caller (any role). Error codes:
FORBIDDEN (no caller, or roles not held), BAD_USER_INPUT (an unknown event
type or a malformed key), INVALID_CURSOR (malformed, or ahead of the log),
CURSOR_EXPIRED (retention dropped events after it), NOT_FOUND (no such
engagement); a running subscription may end with SLOW_CONSUMER or
SHUTTING_DOWN, whose `cursor` extension says where to resume.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from domain.events import EVENT_TYPES
from domain.governance import Role
from domain.ids import EngagementKey, is_engagement_key
from resolvers.context import Info
from resolvers.errors import bad_input, guarded, not_found
from resolvers.subscriptions_context import Live, LiveContext
from resolvers.subscriptions_feeds import changes, events, exceptions, live_error
from resolvers.types.governance import BusinessException
from resolvers.types.graph import Engagement, load_engagement
from resolvers.types.live import EngagementEvent, EventFilter
from workflows.live import CursorExpired, InvalidCursor, uncancelled
from workflows.transitions import Forbidden

__all__ = ["Subscription"]

_OVERSEERS = frozenset({Role.ADMIN, Role.EXECUTIVE})  # may watch every role's exceptions
_MAX_FILTER_VALUES = 500


def _live(info: Info) -> tuple[LiveContext, Live]:
    ctx = info.context
    if ctx.principal is None:
        raise _forbidden(
            info,
            "subscriptions need an authenticated caller: send a bearer token (over WebSocket "
            'in the connection_init payload {"authorization": "Bearer <jwt>"}, over SSE in '
            "the Authorization header)",
        )
    if not isinstance(ctx, LiveContext) or ctx.live is None:
        raise GraphQLError(
            "subscriptions are served over WebSocket (graphql-transport-ws, graphql-ws) and "
            "Server-Sent Events at /graphql",
            extensions={"code": "BAD_REQUEST", "correlationId": ctx.correlation_id},
        )
    return ctx, ctx.live


def _forbidden(info: Info, message: str) -> GraphQLError:
    return live_error(info, Forbidden(message, required=frozenset(Role)))


def _values(info: Info, name: str, values: list[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if not values or len(values) > _MAX_FILTER_VALUES:
        raise bad_input(f"{name}: give between 1 and {_MAX_FILTER_VALUES} values, or none", info)
    return frozenset(values)


def _filter(info: Info, f: EventFilter | None) -> tuple[frozenset[str] | None, ...]:
    f = f or EventFilter()
    keys = _values(info, "engagementKeys", f.given("engagement_keys"))
    types = _values(info, "types", f.given("types"))
    entities = _values(info, "legalEntities", f.given("legal_entities"))
    bad_keys = sorted(k for k in keys or () if not is_engagement_key(k))
    if bad_keys:
        shown = ", ".join(repr(k[:40]) for k in bad_keys[:5])
        raise bad_input(f"not engagement keys: {shown} (expected ENG-YYYY-NNNNN)", info)
    unknown = sorted(t for t in types or () if t not in EVENT_TYPES)
    if unknown:
        shown = ", ".join(repr(t[:60]) for t in unknown[:5])
        raise bad_input(
            f"unknown event type {shown}; the known types are {', '.join(sorted(EVENT_TYPES))}",
            info,
        )
    return keys, types, entities


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The firm's events, oldest first: those after `after` (a cursor) replayed "
        "from the log, then live ones as they happen, with no gap and no duplicate between."
    )
    async def engagement_events(
        self, info: Info, filter: EventFilter | None = None, after: str | None = None
    ) -> AsyncGenerator[EngagementEvent, None]:
        _, live = _live(info)
        keys, types, entities = _filter(info, filter)
        if after is not None:
            try:
                await uncancelled(live.log.check_cursor(after))
            except (InvalidCursor, CursorExpired) as exc:
                raise live_error(info, exc) from exc
        return events(info, live, keys=keys, types=types, entities=entities, after=after)

    @strawberry.subscription(
        description="A fresh snapshot of the engagement after each change to it (read again "
        "from the systems, like the `engagement` query)."
    )
    async def engagement_changed(self, info: Info, key: str) -> AsyncGenerator[Engagement, None]:
        ctx, live = _live(info)
        if not is_engagement_key(key):
            raise bad_input(f"not an engagement key: {key!r} (expected ENG-YYYY-NNNNN)", info)
        if await guarded(info, load_engagement(info, EngagementKey(key))) is None:
            raise not_found(f"no engagement has key {key}", info)
        return changes(info, ctx, live, EngagementKey(key))

    @strawberry.subscription(
        description="Business exceptions as they are raised, for the given owner roles (default: "
        "the roles you hold; ADMIN and EXECUTIVE may watch any role, everyone else only theirs)."
    )
    async def exception_raised(
        self, info: Info, roles: list[Role] | None = None
    ) -> AsyncGenerator[BusinessException, None]:
        ctx, live = _live(info)
        assert ctx.principal is not None
        held = ctx.principal.roles
        overseer = bool(held & _OVERSEERS)
        if roles is not None and not roles:
            raise bad_input("roles: name at least one role, or leave it out", info)
        wanted = frozenset(roles) if roles is not None else frozenset(Role) if overseer else held
        if not wanted:
            raise _forbidden(info, "you hold no role whose exceptions you could watch")
        if not overseer and not wanted <= held:
            others = ", ".join(sorted(wanted - held))
            raise _forbidden(
                info,
                f"you may only watch exceptions owned by roles you hold (not {others}); "
                "ADMIN and EXECUTIVE may watch any",
            )
        return exceptions(info, live, wanted)
