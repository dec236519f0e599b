"""Cross-replica delivery: an event published through one gateway reaches subscribers on another.

Two `engagement-gateway serve` processes share one real-Redis key prefix; the
sandboxes run in a third. Time entries of one engagement are approved through
replica A, one mutation per event. A graphql-transport-ws subscriber on
replica B (token in the connection_init payload) and an SSE subscriber on A
(distinct-connections mode, token in the Authorization header) watch that
engagement. B's subscriber then disconnects, more events are published
through A, and a new subscription on B resumes from its last cursor: it must
receive exactly the events it missed, then the live ones, with no gap and no
duplicate at the seam. "Exactly" is judged against the stream itself (XRANGE
of the shared prefix), so an event another part of the product adds about the
same engagement is expected too, never assumed away.

Every subscription starts from the cursor of an event committed before any
subscriber connected, so none can miss an event while it is being set up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from redis.asyncio import Redis
from websockets.typing import Subprotocol

from domain.governance import Role
from sandboxes.firm import Firm
from tests.e2e.gateway_process import GatewayProcess, bearer
from tests.live_support import sse_events
from tests.redis_support import REAL_REDIS_URL

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(60)]

WAIT_S = 10.0  # the longest any one expected message may take
EVENTS = """subscription($filter: EventFilter, $after: String) {
  engagementEvents(filter: $filter, after: $after) { cursor id type subject data } }"""
ENTRIES = """query($key: String!) { engagement(key: $key) {
  timeEntries(filter: {billed: false}, first: 50) { edges { node { id approval } } } } }"""
APPROVE = """mutation($ids: [ID!]!, $key: String) {
  approveTimeEntries(ids: $ids, idempotencyKey: $key) { __typename } }"""


class Inbox:
    """What one subscriber received, in order, and a way to wait for more of it."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.failure: BaseException | None = None  # why the subscriber stopped reading
        self._arrived = asyncio.Event()

    def add(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._arrived.set()

    async def follow(self, subscriber: Coroutine[Any, Any, None]) -> None:
        """Run `subscriber`; an error or the end of its stream fails the next wait at once."""
        try:
            await subscriber
            self.failure = AssertionError("the subscription ended")
        except Exception as exc:
            self.failure = exc
            raise
        finally:
            self._arrived.set()

    async def wait_for_id(self, event_id: str) -> None:
        """Until the event `event_id` arrived; fail with what did arrive after WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while event_id not in {e["id"] for e in self.events}:
            if self.failure is not None:
                raise AssertionError(f"subscriber failed; got {self.events}") from self.failure
            self._arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"event {event_id} never arrived; got {self.events}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)


async def _ws_subscriber(url: str, token: str, variables: dict[str, Any], inbox: Inbox) -> None:
    """graphql-transport-ws: init with the token in the payload, one subscription, read."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": token}}))
        ack = json.loads(await ws.recv())
        assert ack["type"] == "connection_ack", ack
        subscribe = {"query": EVENTS, "variables": variables}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            assert message["type"] == "next", message
            assert not message["payload"].get("errors"), message
            inbox.add(message["payload"]["data"]["engagementEvents"])


async def _sse_subscriber(url: str, token: str, variables: dict[str, Any], inbox: Inbox) -> None:
    """GraphQL over SSE, distinct connections: one POST, `event: next` messages streamed back."""
    headers = {"Authorization": token, "Accept": "text/event-stream"}
    body = {"query": EVENTS, "variables": variables}
    async with (
        httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30, read=None)) as http,
        http.stream("POST", "/graphql", json=body, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        async for kind, payload in sse_events(response):
            assert kind == "next", (kind, payload)
            assert not payload.get("errors"), payload
            inbox.add(payload["data"]["engagementEvents"])


class Stream:
    """The firm's event stream under the shared prefix, read straight from Redis."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.key = f"{prefix}events"

    async def entries(self, after: str | None = None) -> list[tuple[str, dict[str, str]]]:
        raw: list[Any] = list(
            await self.redis.xrange(self.key, min=f"({after}" if after else "-") or []
        )
        return [(str(cursor), dict(fields)) for cursor, fields in raw]

    async def last_cursor(self) -> str:
        [(cursor, _)] = (await self.entries())[-1:]
        return cursor

    async def about(self, subject: str, after: str, through: str) -> list[tuple[str, str]]:
        """(cursor, event id) of the events about `subject` after `after`, up to the event
        `through` included."""
        found = []
        for cursor, fields in await self.entries(after):
            if fields["subject"] == subject:
                found.append((cursor, fields["id"]))
            if fields["id"] == through:
                return found
        raise AssertionError(f"event {through} is not on the stream")


def _seen(inbox: Inbox, through: str) -> list[tuple[str, str]]:
    """(cursor, event id) of what `inbox` received, up to the event `through` included."""
    ids = [e["id"] for e in inbox.events]
    return [(e["cursor"], e["id"]) for e in inbox.events[: ids.index(through) + 1]]


class Approvals:
    """Time entries of one engagement approved through one replica, one event each."""

    def __init__(self, http: httpx.AsyncClient, stream: Stream, key: str) -> None:
        self.http, self.stream, self.key = http, stream, key
        self.entry_ids: list[str] = []

    async def find_entries(self, needed: int) -> None:
        variables = {"key": self.key}
        found = await self.http.post("/graphql", json={"query": ENTRIES, "variables": variables})
        edges = found.json()["data"]["engagement"]["timeEntries"]["edges"]
        self.entry_ids = [e["node"]["id"] for e in edges if e["node"]["approval"] != "APPROVED"]
        assert len(self.entry_ids) >= needed, found.text

    async def approve(self, n: int) -> str:
        """Approve entry n; the id of the `time.approved` event that was published for it."""
        variables = {"ids": [self.entry_ids[n]], "key": f"cross-replica-{n}"}
        answer = await self.http.post("/graphql", json={"query": APPROVE, "variables": variables})
        typename = answer.json()["data"]["approveTimeEntries"]["__typename"]
        assert typename == "TimeEntriesApproved", answer.text
        [event_id] = [
            fields["id"]
            for _, fields in await self.stream.entries()
            if fields["type"] == "time.approved"
            and json.loads(fields["record"])["data"]["time_entry_ids"] == [self.entry_ids[n]]
        ]
        return event_id


@pytest.fixture
async def replicas(
    redis_prefix: tuple[Redis, str], sandbox_base: int, tmp_path: Path
) -> AsyncIterator[tuple[GatewayProcess, GatewayProcess]]:
    """Two `serve` processes on one Redis prefix, started side by side."""
    _, prefix = redis_prefix
    pair = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        pair.append(GatewayProcess(sandbox_base, REAL_REDIS_URL, prefix, tmp_path / name))
    try:
        await asyncio.gather(*(asyncio.to_thread(replica.start) for replica in pair))
        yield pair[0], pair[1]
    finally:
        for replica in pair:
            replica.stop()


@contextlib.asynccontextmanager
async def _running(
    *subscribers: Coroutine[Any, Any, None],
) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Subscribers as tasks, all stopped (their connections closed) at the end."""
    tasks = [asyncio.create_task(s) for s in subscribers]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_events_published_through_one_replica_reach_subscribers_on_another_and_resume(
    redis_prefix: tuple[Redis, str],
    replicas: tuple[GatewayProcess, GatewayProcess],
    firm: Firm,
) -> None:
    redis, prefix = redis_prefix
    replica_a, replica_b = replicas
    stream = Stream(redis, prefix)
    pmo = bearer("cross-replica-pmo", Role.PMO)
    viewer = bearer("cross-replica-viewer", Role.EXECUTIVE)["Authorization"]
    waiting = Counter(
        t.engagement_key for t in firm.time_entries if not t.approved and not t.invoice
    )
    [(key, _)] = waiting.most_common(1)
    async with httpx.AsyncClient(base_url=replica_a.url, headers=pmo, timeout=30) as http:
        through_a = Approvals(http, stream, key)
        await through_a.find_entries(6)
        await through_a.approve(0)  # before anyone subscribes: the common starting cursor
        origin = await stream.last_cursor()
        watch = {"filter": {"engagementKeys": [key]}, "after": origin}
        on_a, on_b = Inbox(), Inbox()
        async with _running(
            on_a.follow(_sse_subscriber(replica_a.url, viewer, watch, on_a)),
            on_b.follow(_ws_subscriber(replica_b.url, viewer, watch, on_b)),
        ) as (_, on_b_task):
            first = await through_a.approve(1)
            await on_b.wait_for_id(first)
            assert _seen(on_b, first) == await stream.about(key, origin, first)
            assert on_b.events[-1]["type"] == "time.approved"
            assert on_b.events[-1]["data"]["time_entry_ids"] == [through_a.entry_ids[1]]
            last_cursor = on_b.events[-1]["cursor"]
            on_b_task.cancel()  # B's subscriber goes away while events keep coming through A
            missed = [await through_a.approve(n) for n in (2, 3)]
            resumed = Inbox()
            again = {"filter": {"engagementKeys": [key]}, "after": last_cursor}
            async with _running(
                resumed.follow(_ws_subscriber(replica_b.url, viewer, again, resumed))
            ):
                await resumed.wait_for_id(missed[-1])  # replayed from the cursor
                live = [await through_a.approve(n) for n in (4, 5)]
                await resumed.wait_for_id(live[-1])  # then streamed as they happen
                await on_a.wait_for_id(live[-1])
            expected = await stream.about(key, last_cursor, live[-1])
            assert {event for _, event in expected} >= {*missed, *live}
            assert _seen(resumed, live[-1]) == expected, "a gap or a duplicate at the seam"
            assert _seen(on_a, live[-1]) == await stream.about(key, origin, live[-1])
