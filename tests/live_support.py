"""Subscriptions over real sockets: the gateway served by uvicorn, and clients for it.

`served` runs the in-process gateway of `governed_client` (its lifespan
already entered) on a free port with uvicorn, so WebSocket and SSE clients
talk to it over TCP. `publish` commits events through the store's journal,
the way every transition publishes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from adapters.store import RedisGovernanceStore
from domain.events import Event, TimeApproved, event_id
from domain.governance import Role
from domain.ids import EngagementKey
from domain.operations import Commit, Operation, OperationStatus
from gateway.auth import TokenAuthority
from sandboxes.firm import Firm
from tests.governance_support import governed_client, store
from tests.graph_support import GraphClient
from tests.serving import serve, wait_until
from workflows.live import EventHub

__all__ = [
    "LEGACY_WS",
    "TRANSPORT_WS",
    "Gateway",
    "Session",
    "closed_with",
    "publish",
    "publish_to",
    "receive",
    "send",
    "served",
    "session",
    "time_approved",
]

TRANSPORT_WS = Subprotocol("graphql-transport-ws")
LEGACY_WS = Subprotocol("graphql-ws")


class Gateway:
    """A served gateway: its URLs, its in-process client and its hub."""

    def __init__(self, client: GraphClient, url: str) -> None:
        self.client = client
        self.url = url
        self.ws_url = url.replace("http://", "ws://", 1) + "/graphql"

    @property
    def hub(self) -> EventHub:
        hub: EventHub = self.client.app.state.live.hub
        return hub

    def token(self, *roles: Role, subject: str = "watcher") -> str:
        authority: TokenAuthority = self.client.app.state.token_authority
        return f"Bearer {authority.mint(subject, roles or (Role.EXECUTIVE,))}"

    @contextlib.asynccontextmanager
    async def ws(
        self, protocol: str = TRANSPORT_WS, **options: Any
    ) -> AsyncIterator[ClientConnection]:
        async with websockets.connect(
            self.ws_url, subprotocols=[Subprotocol(protocol)], proxy=None, **options
        ) as connection:
            yield connection

    def http(self) -> httpx.AsyncClient:
        """A client of the served gateway over TCP (for SSE)."""
        return httpx.AsyncClient(base_url=self.url, timeout=httpx.Timeout(10, read=10))

    async def registered(self, count: int) -> None:
        """Until `count` subscribers are registered with this process's hub."""
        await wait_until(lambda: self.hub.subscribers == count, what=f"{count} subscribers")


@contextlib.asynccontextmanager
async def served(
    firm: Firm, store_kind: str = "embedded", **settings: Any
) -> AsyncIterator[Gateway]:
    async with (
        governed_client(firm, store_kind, **settings) as client,  # runs the lifespan
        serve(client.app, graceful_s=2) as url,
    ):
        yield Gateway(client, url)


async def publish(client: GraphClient, *events: Event) -> None:
    """Commit `events` through the gateway's journal, as a transition's step does."""
    await publish_to(store(client), Commit(events=events))


async def publish_to(journal: RedisGovernanceStore, commit: Commit) -> None:
    """Commit `commit` (events, exceptions, audit) through `journal` in one step."""
    operation = Operation(
        id=f"test-{uuid.uuid4().hex}",
        kind="test",
        engagement_key=None,
        input={},
        fingerprint="test",
        actor="tests",
        role=None,
        correlation_id=None,
        created_at=datetime.now(UTC),
    )
    await journal.open_operation(operation)
    finished = OperationStatus.SUCCEEDED  # nothing for the resume sweep to pick up
    await journal.commit(operation.id, step="publish", commit=commit, status=finished)


def time_approved(key: str, tag: str) -> TimeApproved:
    """A `time.approved` about `key` whose one time entry id is `tag`. Tags are unique per
    store: the journal announces each entry's approval once (adapters/store/facts.py)."""
    return TimeApproved(
        id=event_id("test", key, tag),
        subject=EngagementKey(key),
        time=datetime.now(UTC),
        time_entry_ids=[tag],
        hours="1.0",
    )


async def send(ws: ClientConnection, message: Mapping[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection, timeout_s: float = 5.0) -> dict[str, Any]:
    """The next protocol message (pings answered on the way)."""
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout_s)
        message: dict[str, Any] = json.loads(raw)
        if message.get("type") == "ping":
            await send(ws, {"type": "pong"})
            continue
        return message


async def closed_with(ws: ClientConnection, timeout_s: float = 5.0) -> tuple[int, str]:
    """(code, reason) the server closed the connection with."""
    with contextlib.suppress(websockets.ConnectionClosed):
        async with asyncio.timeout(timeout_s):
            async for _ in ws:
                pass
    assert ws.close_code is not None, "the connection is still open"
    return ws.close_code, ws.close_reason or ""


class Session:
    """One acknowledged graphql-transport-ws connection; messages sorted by operation."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._inbox: dict[str, list[dict[str, Any]]] = {}

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await send(self.ws, {"id": op_id, "type": "subscribe", "payload": payload})

    async def complete(self, op_id: str) -> None:
        await send(self.ws, {"id": op_id, "type": "complete"})

    async def expect(self, op_id: str, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next message of operation `op_id`."""
        while not self._inbox.get(op_id):
            message = await receive(self.ws, timeout_s)
            self._inbox.setdefault(str(message.get("id")), []).append(message)
        return self._inbox[op_id].pop(0)

    async def data(self, op_id: str, field: str, timeout_s: float = 5.0) -> Any:
        """The next result of `op_id`, which must be a `next` without errors."""
        message = await self.expect(op_id, timeout_s)
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        return message["payload"]["data"][field]

    async def error_codes(self, op_id: str) -> list[str]:
        """The codes of the errors that end `op_id` (an `error`, or a `next` then `complete`)."""
        message = await self.expect(op_id)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        if message["type"] == "next":
            assert (await self.expect(op_id))["type"] == "complete"
        return [str(e.get("extensions", {}).get("code")) for e in errors]


@contextlib.asynccontextmanager
async def session(
    gateway: Gateway, token: str | None = None, **options: Any
) -> AsyncIterator[Session]:
    """A graphql-transport-ws connection, initialised with `token` in the payload."""
    async with gateway.ws(**options) as ws:
        payload = {"authorization": token} if token else {}
        await send(ws, {"type": "connection_init", "payload": payload})
        ack = await receive(ws)
        assert ack["type"] == "connection_ack", ack
        yield Session(ws)


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """(event, parsed data) of each server-sent event of `response`; comments skipped."""
    kind, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            kind = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()
        elif not line and kind:
            yield kind, json.loads(data) if data else None
            kind, data = "", ""
