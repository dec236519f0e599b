"""GraphQL over SSE (distinct-connections mode), end to end with httpx streaming."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from domain.governance import Role
from gateway.auth import TokenAuthority
from sandboxes.firm import Firm
from tests.live_support import Gateway, publish, served, sse_events, time_approved

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

EVENTS = """subscription($filter: EventFilter, $after: String) {
  engagementEvents(filter: $filter, after: $after) { cursor id type subject data } }"""
KEY = "ENG-2026-00921"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(firm: Firm) -> AsyncIterator[Gateway]:
    async with served(firm) as gateway:
        yield gateway


@pytest_asyncio.fixture(autouse=True, loop_scope="module")
async def released(gw: Gateway) -> AsyncIterator[None]:
    yield
    await gw.registered(0)  # a client that went away left no registration behind


def _headers(gw: Gateway, token: str | None = None) -> dict[str, str]:
    headers = {"Accept": "text/event-stream"}
    if token is not None:
        headers["Authorization"] = token
    return headers


async def test_events_stream_over_post_and_get_until_the_client_leaves(gw: Gateway) -> None:
    variables = {"filter": {"engagementKeys": [KEY]}}
    async with gw.http() as http:
        async with http.stream(
            "POST", "/graphql", json={"query": EVENTS, "variables": variables},
            headers=_headers(gw, gw.token()),
        ) as posted:  # fmt: skip
            assert posted.status_code == 200
            assert posted.headers["content-type"].startswith("text/event-stream")
            params = {"query": EVENTS, "variables": json.dumps(variables)}
            async with http.stream(
                "GET", "/graphql", params=params, headers=_headers(gw, gw.token())
            ) as got:
                assert got.status_code == 200
                await gw.registered(2)
                await publish(
                    gw.client, time_approved("ENG-2026-00999", "x"), time_approved(KEY, "sse")
                )
                for response in (posted, got):
                    kind, payload = await anext(sse_events(response))
                    assert kind == "next" and "errors" not in payload
                    event = payload["data"]["engagementEvents"]
                    assert (event["subject"], event["data"]["time_entry_ids"]) == (KEY, ["sse"])
        await gw.registered(0)  # the client went away: its registration went with it


async def test_a_query_over_sse_is_one_next_then_complete(gw: Gateway) -> None:
    async with gw.http() as http, http.stream(
        "POST", "/graphql", json={"query": "{ __typename }"}, headers=_headers(gw)
    ) as response:  # fmt: skip
        assert response.status_code == 200
        assert [e async for e in sse_events(response)] == [
            ("next", {"data": {"__typename": "Query"}}),
            ("complete", None),
        ]


@pytest.mark.parametrize(
    ("body", "token", "status", "code", "says"),
    [
        ({"query": EVENTS}, None, 401, "UNAUTHENTICATED", "bearer token"),
        ({"query": EVENTS, "variables": {"filter": {"types": ["nope"]}}}, "t", 400,
         "BAD_USER_INPUT", "unknown event type 'nope'"),
        ({"query": EVENTS, "variables": {"after": "x"}}, "t", 400, "INVALID_CURSOR",
         "not a cursor"),
        ({"query": "subscription { nope }"}, "t", 400, None, "Cannot query field 'nope'"),
        ({"query": "subscription {"}, "t", 400, None, "Syntax Error"),
        ({"query": "subscription { exceptionRaised(roles: [FINANCE]) { id } }"}, "pmo", 403,
         "FORBIDDEN", "roles you hold"),
        ({"variables": {}}, "t", 400, None, "query"),
    ],
)  # fmt: skip
async def test_request_errors_are_plain_http_before_any_streaming(
    gw: Gateway, body: dict[str, Any], token: str | None, status: int, code: str | None, says: str
) -> None:
    bearer = {"t": gw.token(), "pmo": gw.token(Role.PMO, subject="pmo"), None: None}[token]
    async with gw.http() as http:
        answer = await http.post("/graphql", json=body, headers=_headers(gw, bearer))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    [error] = answer.json()["errors"]
    assert says in error["message"]
    assert (error.get("extensions") or {}).get("code") == code


async def test_a_mutation_over_get_is_refused(gw: Gateway) -> None:
    params = {"query": "mutation { __typename }"}
    async with gw.http() as http:
        answer = await http.get("/graphql", params=params, headers=_headers(gw, gw.token()))
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"


async def test_a_stream_ends_with_token_expired_and_a_cursor_when_its_token_expires(
    gw: Gateway,
) -> None:
    authority: TokenAuthority = gw.client.app.state.token_authority
    short_lived = f"Bearer {authority.mint('short-sse', [Role.EXECUTIVE], ttl_s=2)}"
    body = {"query": EVENTS, "variables": {"filter": {"engagementKeys": [KEY]}}}
    async with (
        gw.http() as http,
        http.stream("POST", "/graphql", json=body, headers=_headers(gw, short_lived)) as response,
    ):
        assert response.status_code == 200
        await gw.registered(1)
        await publish(gw.client, time_approved(KEY, "sse-before-expiry"))
        async with asyncio.timeout(15):  # a deadline, not a timing: the token lives ~2 s
            streamed = [e async for e in sse_events(response)]
    [(first, delivered), (last, ended), (end, _)] = streamed
    assert (first, last, end) == ("next", "next", "complete"), streamed
    assert "errors" not in delivered, delivered
    cursor = delivered["data"]["engagementEvents"]["cursor"]
    assert ended["data"] is None, ended
    [error] = ended["errors"]
    assert error["extensions"]["code"] == "TOKEN_EXPIRED"
    assert error["extensions"]["cursor"] == cursor
    assert "token expired" in error["message"]
