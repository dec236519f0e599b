"""Replay and live delivery end to end, on the embedded store and on real Redis.

A subscriber with a cursor gets exactly the stream after it: the replayed
backlog, then the live events, with no gap and no duplicate at the seam, even
while events are being published during the replay. One that falls behind is
cut off with a cursor and resumes from it losing nothing. `engagementChanged`
pushes snapshots read afresh after real transitions through the gateway.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from adapters.store.event_log import EventLog
from domain.governance import Role
from domain.operations import Commit
from sandboxes.firm import Firm
from tests.governance_support import as_role, mutate, store
from tests.live_support import Gateway, publish, publish_to, served, session, time_approved

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EVENTS = """subscription($filter: EventFilter, $after: String) {
  engagementEvents(filter: $filter, after: $after) { cursor id subject } }"""
KEY = "ENG-2026-00911"


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["embedded", "real"])
async def gw(firm: Firm, request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    async with served(firm, request.param) as gateway:
        yield gateway


async def _stream(gw: Gateway, after: str, key: str = KEY) -> list[tuple[str, str]]:
    """(cursor, event id) of the events about `key` after `after`, read straight from Redis."""
    redis, prefix = gw.client.app.state.redis, gw.client.app.state.settings.redis_prefix
    entries = await redis.xrange(f"{prefix}events", min=f"({after}") or []
    records = [(str(cursor), json.loads(fields["record"])) for cursor, fields in entries]
    return [(cursor, r["id"]) for cursor, r in records if r.get("subject") == key]


async def _backlog(gw: Gateway, count: int, tag: str) -> None:
    events = tuple(time_approved(KEY, f"{tag}{i}") for i in range(count))
    await publish_to(store(gw.client), Commit(events=events))


async def test_replay_then_live_has_no_gap_and_no_duplicate_at_the_seam(gw: Gateway) -> None:
    await publish(gw.client, time_approved(KEY, "origin"))
    [(origin, _)] = (await _stream(gw, "0-0"))[-1:]
    await _backlog(gw, 1200, "backlog")  # several replay pages

    async def publish_during_replay() -> None:
        for i in range(30):
            await publish(gw.client, time_approved(KEY, f"during{i}"))

    async with session(gw, gw.token()) as s:
        variables = {"filter": {"engagementKeys": [KEY]}, "after": origin}
        await s.subscribe("seam", EVENTS, variables)
        await gw.registered(1)
        publisher = asyncio.create_task(publish_during_replay())
        got: list[dict[str, Any]] = []
        while len(got) < 1230:
            got.append(await s.data("seam", "engagementEvents"))
        await publisher
        await publish(gw.client, time_approved(KEY, "after"))  # and then live
        got.append(await s.data("seam", "engagementEvents"))
        expected = await _stream(gw, origin)
        assert len(expected) == 1231
        assert [(e["cursor"], e["id"]) for e in got] == expected


async def test_a_slow_subscriber_is_cut_off_and_resumes_from_its_cursor_losing_nothing(
    firm: Firm, gw: Gateway
) -> None:
    store_kind = "real" if gw.client.app.state.settings.redis_url else "embedded"
    async with served(firm, store_kind, subscriber_queue_size=5) as small:
        await publish(small.client, time_approved(KEY, "start"))
        [(start, _)] = (await _stream(small, "0-0"))[-1:]
        async with session(small, small.token()) as s:
            await s.subscribe("1", EVENTS, {"filter": {"engagementKeys": [KEY]}, "after": start})
            await small.registered(1)
            await publish(small.client, time_approved(KEY, "first"))
            first = await s.data("1", "engagementEvents")
            await _backlog(small, 30, "burst")  # one read hands it all over: too many to queue
            ended = await s.expect("1")
            [error] = ended["payload"]["errors"]
            assert error["extensions"]["code"] == "SLOW_CONSUMER", error
            assert error["extensions"]["cursor"] == first["cursor"]
            assert (await s.expect("1"))["type"] == "complete"
            await small.registered(0)
            resume = {"filter": {"engagementKeys": [KEY]}, "after": error["extensions"]["cursor"]}
            await s.subscribe("2", EVENTS, resume)
            got = [await s.data("2", "engagementEvents") for _ in range(30)]
            await publish(small.client, time_approved(KEY, "live"))
            got.append(await s.data("2", "engagementEvents"))
            assert [(e["cursor"], e["id"]) for e in got] == await _stream(small, first["cursor"])


async def test_a_cursor_older_than_retention_keeps_is_expired(gw: Gateway) -> None:
    await _backlog(gw, 3, "old")
    [(old, _), *_] = await _stream(gw, "0-0")
    log = EventLog(gw.client.app.state.redis, gw.client.app.state.settings.redis_prefix)
    assert await log.trim(datetime.now(UTC), retention_s=0, maxlen=2) > 0
    async with session(gw, gw.token()) as s:
        await s.subscribe("old", EVENTS, {"after": old})
        error = await s.expect("old")
        assert error["type"] == "error"
        assert error["payload"][0]["extensions"]["code"] == "CURSOR_EXPIRED"
        assert error["payload"][0]["extensions"]["floor"] == await log.floor()


CHANGED = """subscription($key: String!) { engagementChanged(key: $key) {
  key timeEntries(filter: {approval: SUBMITTED, billed: false}, first: 50) {
    edges { node { id } } } } }"""
ENTRIES = """query($key: String!) { engagement(key: $key) {
  timeEntries(filter: {approval: SUBMITTED, billed: false}, first: 50) {
    edges { node { id } } } } }"""
APPROVE = """mutation($ids: [ID!]!, $key: String) {
  approveTimeEntries(ids: $ids, idempotencyKey: $key) { __typename } }"""


def _submitted(snapshot: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in snapshot["timeEntries"]["edges"]}


async def test_engagement_changed_pushes_a_fresh_snapshot_after_each_real_transition(
    gw: Gateway, firm: Firm
) -> None:
    if gw.client.app.state.settings.redis_url:
        pytest.skip("the store plays no part here beyond the event stream")
    key = next(e.key for e in firm.engagements if e.status == "ACTIVE" and len(e.present_in) == 4)
    listed = await gw.client.data(ENTRIES, {"key": key})
    entries = [edge["node"]["id"] for edge in listed["engagement"]["timeEntries"]["edges"]]
    assert len(entries) >= 2
    pmo = as_role(gw.client, Role.PMO)
    async with session(gw, gw.token()) as s:
        await s.subscribe("c", CHANGED, {"key": key})
        await gw.registered(1)
        for n, entry in enumerate(entries[:2]):
            answer = await mutate(gw.client, APPROVE, {"ids": [entry]}, headers=pmo)
            assert answer["data"]["approveTimeEntries"]["__typename"] == "TimeEntriesApproved"
            snapshot = await s.data("c", "engagementChanged")
            while entry in _submitted(snapshot):  # an earlier change's snapshot, if any
                snapshot = await s.data("c", "engagementChanged")
            assert snapshot["key"] == key
            assert _submitted(snapshot) == set(entries) - set(entries[: n + 1])


async def test_a_burst_of_changes_while_loading_makes_one_snapshot(gw: Gateway) -> None:
    if gw.client.app.state.settings.redis_url:
        pytest.skip("the store plays no part here beyond the event stream")
    key = "ENG-2025-00001"
    async with session(gw, gw.token()) as s:
        await s.subscribe(
            "c", "subscription($k: String!) { engagementChanged(key: $k) { key } }", {"k": key}
        )
        await gw.registered(1)
        burst = tuple(time_approved(key, f"burst{i}") for i in range(10))
        await publish_to(store(gw.client), Commit(events=burst))
        assert (await s.data("c", "engagementChanged")) == {"key": key}
        assert gw.hub.backlog == 0, "the first snapshot took the whole burst"
        await publish(gw.client, time_approved(key, "later"))
        assert (await s.data("c", "engagementChanged")) == {"key": key}
