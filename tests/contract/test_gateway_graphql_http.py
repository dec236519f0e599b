"""The real gateway's /graphql, /graphiql and assets, over the in-process sandboxes.

The status-code rules themselves are tested on a probe schema in
test_graphql_http.py; here the product schema and `create_app` wiring are used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.graphiql import ASSETS, STATIC_PREFIX
from sandboxes.firm import Firm
from tests.sandbox_support import InProcessSandboxes

GR = "application/graphql-response+json"
SYSTEMS_QUERY = "{ systems { name ok } }"


@pytest.fixture
async def gateway(firm: Firm) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        salesforce_url="http://salesforce",
        kantata_url="http://kantata",
        harvest_url="http://harvest",
        netsuite_url="http://netsuite",
        readiness_timeout_s=0.5,
        timeout_s=0.3,
        environment="prod",
    )
    app = create_app(settings, transports=InProcessSandboxes.start(firm).transports())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        yield client


async def test_the_systems_query_runs_over_get_with_graphql_response_json(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get(
        "/graphql", params={"query": SYSTEMS_QUERY}, headers={"Accept": GR}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GR}; charset=utf-8"
    names = [s["name"] for s in response.json()["data"]["systems"]]
    assert names == ["salesforce", "kantata", "harvest", "netsuite"]


async def test_a_mutation_over_get_is_405(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers={"Accept": GR}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["x-correlation-id"]
    assert "POST" in response.json()["errors"][0]["message"]


async def test_the_same_mutation_over_post_is_executed(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/graphql", json={"query": "mutation { __typename }"}, headers={"Accept": GR}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Mutation"}}


async def test_bad_input_to_the_real_endpoint_is_never_a_500(gateway: httpx.AsyncClient) -> None:
    answers = [
        await gateway.post(
            "/graphql", content=b"{nope", headers={"Content-Type": "application/json"}
        ),
        await gateway.post("/graphql", content=b"query=1", headers={"Content-Type": "text/plain"}),
        await gateway.post("/graphql", json=[{"query": SYSTEMS_QUERY}]),
        await gateway.post("/graphql", json={"query": SYSTEMS_QUERY, "variables": [1]}),
        await gateway.post(
            "/graphql", json={"query": SYSTEMS_QUERY}, headers={"Accept": "text/csv"}
        ),
        await gateway.get("/graphql", headers={"Accept": "application/json"}),
        await gateway.delete("/graphql"),
    ]
    assert [a.status_code for a in answers] == [400, 415, 400, 400, 406, 400, 405]
    assert all(a.json()["errors"][0]["message"] for a in answers)


@pytest.mark.parametrize("path", ["/graphql", "/graphiql"])
async def test_a_browser_gets_the_graphiql_page(gateway: httpx.AsyncClient, path: str) -> None:
    response = await gateway.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    assert "<title>engagement-gateway · GraphiQL</title>" in response.text
    for rel in ASSETS.values():
        assert f'"{STATIC_PREFIX}/{rel}"' in response.text
        asset = await gateway.get(f"{STATIC_PREFIX}/{rel}")
        assert asset.status_code == 200, rel
