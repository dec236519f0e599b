"""Each subscription event runs on an executor copy with a sub-field memo of its own.

graphql-core 3.3 shares the memo between the operation's executor and every
per-event copy, keyed by the id of a list rebuilt per event, so without
`PerEventExecutor` the operation's memo gains an entry for every message sent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import parse

from resolvers.schema import PerEventExecutor


@strawberry.type
class Point:
    x: int
    y: int


@strawberry.type
class Query:
    ping: str = "pong"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def points(self) -> AsyncGenerator[Point, None]:
        yield Point(x=1, y=2)


def test_events_leave_the_operations_memo_as_it_was() -> None:
    schema = strawberry.Schema(query=Query, subscription=Subscription)
    operation = PerEventExecutor.build(schema._schema, parse("subscription { points { x y } }"))
    assert isinstance(operation, PerEventExecutor)
    for n in range(3):
        event = operation.build_per_event_executor(Point(x=n, y=n))
        result = event.execute_operation()
        assert not isinstance(result, list) and getattr(result, "data", None) == {
            "points": {"x": n, "y": n}
        }
        assert event._relevant_sub_fields, "the event's own memo was used"
    assert operation._relevant_sub_fields == {}
