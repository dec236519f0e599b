"""The operations GraphiQL opens with run as they are, without errors, on the demo firm:
queries over HTTP, subscriptions over SSE (as GraphiQL runs them) up to their first event."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse

from gateway.graphiql_examples import EXAMPLES
from sandboxes.firm import Firm
from tests.graph_support import graph_client
from tests.live_support import publish, served, sse_events, time_approved


def _kind(operation: str) -> OperationType:
    [definition] = parse(operation).definitions
    assert isinstance(definition, OperationDefinitionNode)
    return definition.operation


QUERIES = sorted(n for n, text in EXAMPLES.items() if _kind(text) is OperationType.QUERY)
SUBSCRIPTIONS = sorted(n for n, t in EXAMPLES.items() if _kind(t) is OperationType.SUBSCRIPTION)


def test_every_example_is_a_query_or_a_subscription() -> None:
    assert sorted(QUERIES + SUBSCRIPTIONS) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", QUERIES)
async def test_each_example_runs_without_errors(firm: Firm, name: str) -> None:
    async with graph_client(firm) as graph:
        data = await graph.data(EXAMPLES[name])
    assert data and all(value for value in data.values()), data
    connection = next(iter(data.values()))
    if isinstance(connection, dict):
        assert connection["totalCount"] > 0


async def _first_next(response: httpx.Response) -> Any:
    """The data of the stream's first `event: next`."""
    async for kind, data in sse_events(response):
        assert kind == "next", (kind, data)
        return data
    raise AssertionError("the stream ended without an event")


@pytest.mark.parametrize("name", SUBSCRIPTIONS)
async def test_each_subscription_example_streams_an_event_over_sse(firm: Firm, name: str) -> None:
    key = firm.engagements[0].key
    async with served(firm) as gw, gw.http() as http:
        headers = {"Accept": "text/event-stream", "Authorization": gw.token()}
        body = {"query": EXAMPLES[name]}
        async with http.stream("POST", "/graphql", json=body, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            await gw.registered(1)
            await publish(gw.client, time_approved(key, f"graphiql-example-{name}"))
            payload = await _first_next(response)
    assert "errors" not in payload, payload
    event = next(iter(payload["data"].values()))
    assert event["type"] == "time.approved" and event["subject"] == key, event
