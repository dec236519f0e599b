"""Facts: a vendor occurrence is announced once, whichever path learns of it first.

An event names the occurrences it announces (`Event.facts`: ``time.approved:<entry>``,
``opportunity.won:<opportunity>`` ...). Publishing it sets each fact's key to the
event's id in the same MULTI as the XADD, under WATCH of those keys, so of two
paths racing to announce one fact exactly one succeeds. A fact may also be marked
`HISTORY`: the inbound sync's first start marks what the vendor already held, so a
later edit of an old record is not taken for news.

The two publishers differ in what they make of a marked fact:

- a governed transition's commit (the journal) leaves out an event every fact of
  which another event already announced; an event with one fact still unannounced is
  published whole (``time.approved`` carries a total that cannot be split). `HISTORY`
  marks do not count: approving again through the gateway what was approved before
  our time is news to the event stream;
- the inbound sync publishes an event only when none of its facts is marked at all,
  `HISTORY` included; it regroups what is left and tries again (`publish_unmarked`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from redis.asyncio.client import Pipeline

from adapters.store.keys import StoreKeys
from domain.events import Event

__all__ = ["HISTORY", "announced", "fact_keys", "read_marks", "write_event"]

HISTORY = "history"  # what the vendor held when the inbound sync first started


def fact_keys(keys: StoreKeys, events: Sequence[Event]) -> list[str]:
    return [keys.fact(fact) for event in events for fact in event.facts()]


async def read_marks(pipe: Pipeline, keys: StoreKeys, events: Sequence[Event]) -> dict[str, str]:
    """Fact -> its mark, for the marked facts of `events` (run while the keys are WATCHed)."""
    facts = [fact for event in events for fact in event.facts()]
    if not facts:
        return {}
    values = await pipe.mget([keys.fact(fact) for fact in facts])
    return {
        fact: value.decode() if isinstance(value, bytes) else str(value)
        for fact, value in zip(facts, values, strict=True)
        if value is not None
    }


def announced(event: Event, marks: Mapping[str, str]) -> bool:
    """Did other events already announce every fact of `event` (history does not count)?"""
    facts = event.facts()
    return bool(facts) and all(marks.get(fact, HISTORY) != HISTORY for fact in facts)


def write_event(pipe: Pipeline, keys: StoreKeys, event: Event) -> None:
    """Queue (inside MULTI) the event's stream entry and the marks of its facts."""
    pipe.xadd(
        keys.events,
        {
            "id": event.id,
            "type": event.type,
            "subject": event.subject or "",
            "record": json.dumps(event.to_record()),
        },
    )
    for fact in event.facts():
        pipe.set(keys.fact(fact), event.id)
