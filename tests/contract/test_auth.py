"""Callers authenticate with bearer JWTs: the gateway's answers over HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message
from strawberry.types import Info

from domain.governance import Principal, Role
from gateway.auth import BearerAuthMiddleware, TokenAuthority, mint_token
from gateway.config import Settings
from gateway.correlation import CorrelationIdMiddleware
from gateway.graphql_http import GraphQLView
from resolvers.context import ContextFactory
from sandboxes.firm import Firm
from tests.graph_support import GraphClient, graph_client

SYSTEMS_QUERY = "{ systems { name ok } }"
SETTINGS = Settings()  # the gateway under test uses the default issuer, audience and secret
ALICE = Principal(subject="alice", roles=frozenset({Role.FINANCE, Role.PMO}))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def demo_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "alice",
        "roles": ["FINANCE"],
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return claims


def demo_signed(secret: str | None = None, **overrides: Any) -> str:
    key = secret or SETTINGS.jwt_secret.get_secret_value()
    return jwt.encode(demo_claims(**overrides), key, algorithm="HS256")


@pytest.fixture
async def graph(firm: Firm) -> AsyncIterator[GraphClient]:
    async with graph_client(firm) as client:
        yield client


def assert_unauthenticated(response: httpx.Response, reason: str, error: str) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer error="{error}", error_description="')
    assert reason in challenge
    body = response.json()
    assert list(body) == ["errors"]
    [only] = body["errors"]
    assert reason in only["message"]
    assert only["extensions"]["code"] == "UNAUTHENTICATED"
    assert only["extensions"]["correlationId"] == response.headers["X-Correlation-ID"]


async def test_anonymous_callers_still_query(graph: GraphClient) -> None:
    systems = await graph.data(SYSTEMS_QUERY)
    assert [s["name"] for s in systems["systems"]] == [
        "salesforce",
        "kantata",
        "harvest",
        "netsuite",
    ]


async def test_a_valid_token_is_accepted(graph: GraphClient) -> None:
    token = mint_token(SETTINGS, "alice", [Role.FINANCE], ttl_s=60)
    response = await graph.http.post(
        "/graphql", json={"query": SYSTEMS_QUERY}, headers=bearer(token)
    )
    assert response.status_code == 200
    assert "errors" not in response.json()


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (demo_signed(exp=int(time.time()) - 3600), "The token has expired"),
        (demo_signed(secret="a-forger-s-own-secret-of-32-bytes-or-more"), "signature is invalid"),
        (demo_signed(aud="another-service"), "not meant for 'engagement-gateway'"),
        (demo_signed(roles=["FINANCE", "GOD_MODE"]), "Unknown role 'GOD_MODE'"),
    ],
    ids=["expired", "forged", "wrong-audience", "unknown-role"],
)
async def test_a_bad_token_is_401_and_never_reaches_the_systems(
    graph: GraphClient, token: str, reason: str
) -> None:
    await graph.reset_calls()
    response = await graph.http.post(
        "/graphql", json={"query": SYSTEMS_QUERY}, headers=bearer(token)
    )
    assert_unauthenticated(response, reason, "invalid_token")
    assert set((await graph.calls()).values()) == {0}


@pytest.mark.parametrize("header", ["Bearer", "Token abc", "Bearer two parts"])
async def test_a_malformed_authorization_header_is_401(graph: GraphClient, header: str) -> None:
    response = await graph.http.get("/healthz", headers={"Authorization": header})
    assert_unauthenticated(response, "must be 'Bearer <token>'", "invalid_request")


async def test_the_context_factory_hands_resolvers_the_principal(graph: GraphClient) -> None:
    state = graph.app.state
    factory = ContextFactory(systems=state.systems, reference=state.reference)
    assert factory("cid-1", ALICE).principal == ALICE
    assert factory("cid-2").principal is None


# The principal through GraphQLView, over HTTP and WebSocket, with a schema that echoes it.


@dataclass
class WhoContext:
    correlation_id: str
    principal: Principal | None


@strawberry.type
class WhoQuery:
    @strawberry.field
    def whoami(self, info: Info[WhoContext, None]) -> str:
        principal = info.context.principal
        if principal is None:
            return "anonymous"
        return f"{principal.subject}:{','.join(sorted(principal.roles))}"


def who_app() -> Starlette:
    view = GraphQLView(strawberry.Schema(query=WhoQuery), WhoContext)
    return Starlette(
        routes=[Route("/graphql", view), WebSocketRoute("/graphql", view)],
        middleware=[
            Middleware(CorrelationIdMiddleware),
            Middleware(BearerAuthMiddleware, authority=TokenAuthority.from_settings(SETTINGS)),
        ],
    )


async def test_the_principal_reaches_the_graphql_context_over_http() -> None:
    token = mint_token(SETTINGS, "alice", [Role.PMO, Role.FINANCE])
    transport = httpx.ASGITransport(app=who_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://who") as client:
        signed_in = await client.post(
            "/graphql", json={"query": "{ whoami }"}, headers=bearer(token)
        )
        anonymous = await client.post("/graphql", json={"query": "{ whoami }"})
    assert signed_in.json() == {"data": {"whoami": "alice:FINANCE,PMO"}}
    assert anonymous.json() == {"data": {"whoami": "anonymous"}}


class AsgiWebSocket:
    """A WebSocket client speaking ASGI to an app in-process (the handshake, then JSON)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str], *, denial_extension: bool) -> None:
        self.app = app
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "server": ("gw", 80),
            "client": ("127.0.0.1", 50000),
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "subprotocols": ["graphql-transport-ws"],
            "extensions": {"websocket.http.response": {}} if denial_extension else {},
        }
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def handshake(self) -> list[Message]:
        """What the app answered the connect with: an accept, a close, or a 401 response."""

        async def serve() -> None:
            await self.app(self.scope, self.to_app.get, self.from_app.put)

        self.task = asyncio.create_task(serve())
        await self.to_app.put({"type": "websocket.connect"})
        first = await self.receive()
        if first["type"] != "websocket.http.response.start":
            return [first]
        return [first, await self.receive()]

    async def receive(self) -> Message:
        return await asyncio.wait_for(self.from_app.get(), timeout=5)

    async def send_json(self, data: Any) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json(self) -> Any:
        message = await self.receive()
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def close(self) -> None:
        await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        assert self.task is not None
        await asyncio.wait_for(self.task, timeout=5)


async def ws_whoami(app: ASGIApp, headers: dict[str, str]) -> Any:
    ws = AsgiWebSocket(app, headers, denial_extension=True)
    [accepted] = await ws.handshake()
    assert accepted["type"] == "websocket.accept", accepted
    assert accepted["subprotocol"] == "graphql-transport-ws"
    await ws.send_json({"type": "connection_init"})
    assert await ws.receive_json() == {"type": "connection_ack"}
    await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": "{ whoami }"}})
    result = await ws.receive_json()
    await ws.close()
    assert result["type"] == "next", result
    return result["payload"]["data"]["whoami"]


async def test_the_principal_reaches_the_graphql_context_over_websocket() -> None:
    token = mint_token(SETTINGS, "alice", [Role.EXECUTIVE])
    assert await ws_whoami(who_app(), bearer(token)) == "alice:EXECUTIVE"
    assert await ws_whoami(who_app(), {}) == "anonymous"


async def test_a_websocket_with_a_bad_token_gets_a_401_before_accept() -> None:
    expired = demo_signed(exp=int(time.time()) - 3600)
    ws = AsgiWebSocket(who_app(), bearer(expired), denial_extension=True)
    start, body = await ws.handshake()
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 401
    assert b'error="invalid_token"' in dict(start["headers"])[b"www-authenticate"]
    payload = json.loads(body["body"])
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in payload["errors"][0]["message"]
    await ws.close()


async def test_a_websocket_with_a_bad_token_is_closed_4401_without_the_denial_extension() -> None:
    ws = AsgiWebSocket(who_app(), bearer("not-a-token"), denial_extension=False)
    [closed] = await ws.handshake()
    assert closed["type"] == "websocket.close"
    assert closed["code"] == 4401
    assert "malformed" in closed["reason"]
    await ws.close()


async def test_the_gateway_refuses_a_websocket_with_a_forged_token(graph: GraphClient) -> None:
    forged = demo_signed(secret="a-forger-s-own-secret-of-32-bytes-or-more")
    refused = AsgiWebSocket(graph.app, bearer(forged), denial_extension=True)
    assert (await refused.handshake())[0]["status"] == 401
    await refused.close()
    good = AsgiWebSocket(
        graph.app, bearer(mint_token(SETTINGS, "bob", [Role.SALES])), denial_extension=True
    )
    assert (await good.handshake())[0]["type"] == "websocket.accept"
    await good.send_json({"type": "connection_init"})
    assert await good.receive_json() == {"type": "connection_ack"}
    await good.close()
