"""GraphQL types of the live feed: the event filter and one event of the stream."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types.unset import UNSET

from workflows.live import LoggedEvent

__all__ = ["EngagementEvent", "EventFilter"]


def _json(value: dict[str, Any]) -> JSON:
    return cast(JSON, value)


@strawberry.input(description="Every given condition must hold; a list matches any of its values.")
class EventFilter:
    engagement_keys: list[str] | None = strawberry.field(
        default=UNSET, description="Events about these engagements (their subject)."
    )
    types: list[str] | None = strawberry.field(
        default=UNSET, description="Event types, e.g. time.approved, invoice.posted."
    )
    legal_entities: list[str] | None = strawberry.field(
        default=UNSET, description="Events about engagements of these legal entities (codes)."
    )

    def given(self, name: str) -> list[str] | None:
        """A condition's values; None when it was left out (or null)."""
        value = getattr(self, name)
        return None if value is UNSET else value


@strawberry.type(description="One event of the firm's stream: a CloudEvents 1.0 envelope.")
class EngagementEvent:
    cursor: str = strawberry.field(
        description="Its position in the stream: subscribe with after: cursor to resume after it."
    )
    id: str = strawberry.field(description="The event id; a replayed transition repeats it.")
    type: str
    subject: str | None = strawberry.field(description="The engagement key it is about.")
    time: datetime
    correlation_id: str | None
    causation_id: str | None = strawberry.field(description="The operation that caused it.")
    actor: str | None
    data: JSON = strawberry.field(description="The event's own fields, as its schema says.")
    cloud_event: JSON = strawberry.field(description="The whole CloudEvent, as stored.")

    @classmethod
    def from_logged(cls, logged: LoggedEvent) -> EngagementEvent:
        event = logged.event
        return cls(
            cursor=logged.cursor,
            id=event.id,
            type=event.type,
            subject=event.subject,
            time=event.time,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            actor=event.actor,
            data=_json(logged.record.get("data") or {}),
            cloud_event=_json(logged.record),
        )
