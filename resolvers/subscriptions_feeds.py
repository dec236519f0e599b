"""The streams behind the subscription fields, and their errors.

`events` registers with the hub *first*, then replays from the log after the
cursor, then serves the live events it queued meanwhile, skipping those the
replay already read (ids up to the replay's last): nothing is missed at the
seam and nothing is sent twice. A subscriber cut off while it is still
replaying loses nothing either: the log has it all, so it registers again and
replays on. Once live, being cut off ends the stream with SLOW_CONSUMER and
the cursor of the last event delivered. When the caller's token expires (its
Principal's `expires_at`), the stream ends the same way, with TOKEN_EXPIRED and
the cursor: one timer per subscription, raced with its reads.

Store reads are `uncancelled`: a client that goes away mid-read cancels its
stream, never the read (which could wedge a pooled connection).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from graphql import GraphQLError

from domain.errors import DomainError
from domain.events import ExceptionRaised
from domain.governance import Role
from domain.ids import EngagementKey
from resolvers.context import Info
from resolvers.errors import to_graphql_error
from resolvers.subscriptions_context import Live, LiveContext
from resolvers.types.governance import BusinessException
from resolvers.types.graph import Engagement, load_engagement
from resolvers.types.live import EngagementEvent
from workflows.live import (
    CursorExpired,
    InvalidCursor,
    LiveFeedStopped,
    LiveFeedUnavailable,
    LoggedEvent,
    SlowConsumer,
    Subscriber,
    position,
    uncancelled,
)

__all__ = ["REPLAY_PAGE", "TokenExpired", "changes", "events", "exceptions", "live_error"]

logger = logging.getLogger(__name__)

REPLAY_PAGE = 200  # entries per read of a replay (parsed only when they may match)


class TokenExpired(DomainError):
    """The caller's token expired while it was subscribed; resume from `cursor`."""

    def __init__(self, cursor: str) -> None:
        super().__init__(
            "the token expired; subscribe again with a fresh one "
            f"(resume with after: {cursor!r} to lose nothing)"
        )
        self.cursor = cursor


class _Expiry:
    """When the caller's token expires, for one subscription: a single timer (none for a
    caller whose credential does not expire), raced with each wait for an event."""

    def __init__(self, info: Info) -> None:
        principal = info.context.principal
        expires_at = principal.expires_at if principal is not None else None
        self.expired: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        if expires_at is not None:
            loop = asyncio.get_running_loop()
            self.expired = expired = loop.create_future()
            delay = max(0.0, (expires_at - datetime.now(UTC)).total_seconds())
            self._timer = loop.call_later(delay, _settle, expired)

    def __enter__(self) -> _Expiry:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.expired is not None:
            self.expired.cancel()

    def check(self, sub: Subscriber) -> None:
        if self.expired is not None and self.expired.done():
            raise TokenExpired(sub.delivered)

    async def next(self, sub: Subscriber) -> LoggedEvent:
        """`sub`'s next event; TokenExpired once the token has expired."""
        self.check(sub)
        if self.expired is None or not sub.queue.empty():
            return await sub.next()
        getting = asyncio.ensure_future(sub.next())
        racing: set[asyncio.Future[Any]] = {getting, self.expired}
        try:
            await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        finally:
            getting.cancel()  # nothing when it is done; an unfinished get takes no event
        if getting.done() and not getting.cancelled():
            return getting.result()
        raise TokenExpired(sub.delivered)


def _settle(expired: asyncio.Future[None]) -> None:
    if not expired.done():
        expired.set_result(None)


_CODES: tuple[tuple[type[Exception], str], ...] = (
    (InvalidCursor, "INVALID_CURSOR"),
    (CursorExpired, "CURSOR_EXPIRED"),
    (SlowConsumer, "SLOW_CONSUMER"),
    (LiveFeedStopped, "SHUTTING_DOWN"),
    (TokenExpired, "TOKEN_EXPIRED"),
    (LiveFeedUnavailable, "UNAVAILABLE"),
)


def live_error(info: Info, exc: Exception, cursor: str | None = None) -> GraphQLError:
    """`exc` as the subscription's GraphQL error; `cursor` (where to resume) when known."""
    code = next((c for kind, c in _CODES if isinstance(exc, kind)), None)
    if code is None and isinstance(exc, DomainError):
        error = to_graphql_error(exc, info)
        extensions = dict(error.extensions or {})
    elif code is None:
        raise exc
    else:
        extensions = {"code": code, "correlationId": info.context.correlation_id}
    cursor = getattr(exc, "cursor", cursor)
    if cursor is not None:
        extensions["cursor"] = cursor
    if isinstance(exc, CursorExpired):
        extensions["floor"] = exc.floor
    return GraphQLError(str(exc), extensions=extensions, original_error=exc)


def _live_now(info: Info) -> None:
    """Tell the transport the subscription is registered (see LiveContext.streaming)."""
    if isinstance(info.context, LiveContext):
        info.context.streaming.set()


async def _in_entities(
    live: Live, found: Sequence[LoggedEvent], entities: frozenset[str] | None
) -> list[LoggedEvent]:
    if entities is None or not found:
        return list(found)
    keys = {e.event.subject for e in found if e.event.subject}
    of = await live.entities.of(keys)
    return [e for e in found if e.event.subject and of.get(e.event.subject) in entities]


async def events(
    info: Info,
    live: Live,
    *,
    keys: frozenset[str] | None,
    types: frozenset[str] | None,
    entities: frozenset[str] | None,
    after: str | None,
) -> AsyncGenerator[EngagementEvent, None]:
    read = after  # the replay's high-water mark: the last entry it read
    delivered = after
    try:
        with _Expiry(info) as expiry:
            while True:
                with live.hub.subscription(keys=keys, types=types) as sub:
                    sub.delivered = delivered or sub.start
                    _live_now(info)
                    while read is not None:  # replay until caught up with the log
                        expiry.check(sub)
                        page = await uncancelled(
                            live.log.read_after(read, REPLAY_PAGE, subjects=keys, types=types)
                        )
                        read, caught_up = page.last or read, page.read < REPLAY_PAGE
                        replayed = await _in_entities(live, page.events, entities)
                        del page  # this frame lives as long as the subscription: keep no page
                        while replayed:
                            logged = replayed.pop(0)
                            if (keys is None or logged.event.subject in keys) and sub.takes(logged):
                                sub.delivered = delivered = logged.cursor
                                yield EngagementEvent.from_logged(logged)
                                await asyncio.sleep(0)  # a long replay must not hold the loop
                        if caught_up:
                            break
                    if sub.ended_by is SlowConsumer:  # cut off while replaying: register again
                        continue
                    seam = position(read or sub.start)
                    while True:
                        logged = await expiry.next(sub)
                        if logged.at <= seam:
                            continue  # the replay sent it already
                        if await _in_entities(live, [logged], entities):
                            sub.delivered = delivered = logged.cursor
                            yield EngagementEvent.from_logged(logged)
    except DomainError as exc:  # SlowConsumer, LiveFeedStopped, TokenExpired, an upstream ...
        raise live_error(info, exc, delivered) from exc


async def changes(
    info: Info, ctx: LiveContext, live: Live, key: EngagementKey
) -> AsyncGenerator[Engagement, None]:
    """A snapshot after each event about `key`; the events of a burst that queued up while
    one snapshot was loading make one snapshot, not one each."""
    delivered: str | None = None
    try:
        with _Expiry(info) as expiry, live.hub.subscription(keys=frozenset({key})) as sub:
            _live_now(info)
            while True:
                burst = [await expiry.next(sub)]
                burst += sub.pending()
                ctx.refresh()  # the subscription outlives any loader cache: read afresh
                found = await load_engagement(info, key)
                sub.delivered = delivered = burst[-1].cursor
                if found is not None:
                    yield Engagement.from_model(found)
    except DomainError as exc:  # SlowConsumer, LiveFeedStopped, TokenExpired, an upstream ...
        raise live_error(info, exc, delivered) from exc


async def exceptions(
    info: Info, live: Live, roles: frozenset[Role]
) -> AsyncGenerator[BusinessException, None]:
    def owned(logged: LoggedEvent) -> bool:
        return isinstance(logged.event, ExceptionRaised) and logged.event.owner_role in roles

    delivered: str | None = None
    try:
        with (
            _Expiry(info) as expiry,
            live.hub.subscription(types=frozenset({ExceptionRaised.type}), accept=owned) as sub,
        ):
            _live_now(info)
            while True:
                logged = await expiry.next(sub)
                assert isinstance(logged.event, ExceptionRaised)
                exc_id = logged.event.exception_id
                found = await uncancelled(live.exceptions.get_business_exception(exc_id))
                sub.delivered = delivered = logged.cursor
                if found is None:
                    logger.warning("exception %s of event %s is not in the store", exc_id, logged)
                    continue
                yield BusinessException.from_model(found)
    except DomainError as exc:  # SlowConsumer, LiveFeedStopped, TokenExpired, an upstream ...
        raise live_error(info, exc, delivered) from exc
