"""The GraphiQL page and its local assets, with the npm packages present and absent."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.graphiql import ASSETS, NODE_MODULES, STATIC_PREFIX
from gateway.graphiql_examples import EXAMPLES
from tests.contract.graphql_probe import Probe, probe_app, probe_client

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
async def installed() -> AsyncIterator[httpx.AsyncClient]:
    missing = [rel for rel in ASSETS.values() if not (NODE_MODULES / rel).is_file()]
    assert not missing, f"run `make install` (npm ci --prefix gateway/web); missing {missing}"
    async with probe_client(probe_app(Probe(), NODE_MODULES)) as client:
        yield client


@pytest.fixture
async def not_installed(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with probe_client(probe_app(Probe(), tmp_path / "node_modules")) as client:
        yield client


@pytest.mark.parametrize("path", ["/graphql", "/graphiql"])
async def test_a_browser_gets_graphiql_loading_only_local_assets(
    installed: httpx.AsyncClient, path: str
) -> None:
    response = await installed.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    sources = [u for u in re.findall(r'(?:src|href)="([^"]+)"', page) if not u.startswith("data:")]
    assert sorted(sources) == sorted(f"{STATIC_PREFIX}/{rel}" for rel in ASSETS.values())
    assert "https://" not in page and "http://" not in page
    assert '"/graphql"' in page  # the fetcher's endpoint
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy


async def test_the_page_preloads_the_sales_pmo_and_finance_examples(
    installed: httpx.AsyncClient,
) -> None:
    page = (await installed.get("/graphiql")).text
    assert {"Sales view", "PMO view", "Finance view"} <= set(EXAMPLES)
    for name in ("SalesView", "PmoView", "FinanceView"):
        assert f"query {name}" in page


async def test_the_page_runs_subscriptions_over_sse_from_its_nonced_script(
    installed: httpx.AsyncClient,
) -> None:
    response = await installed.get("/graphiql")
    page = response.text
    assert "subscription LiveEvents" in page  # the live events example's tab
    nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"])
    assert nonce is not None
    [script] = re.findall(r'<script nonce="([^"]+)">(.*?)</script>', page, re.S)
    assert script[0] == nonce.group(1)
    for needed in ('Accept: "text/event-stream"', "new AbortController()", '"complete"'):
        assert needed in script[1]
    assert "subscribe(named, (options && options.headers)" in script[1]


async def test_a_get_with_a_query_is_executed_not_answered_with_the_page(
    installed: httpx.AsyncClient,
) -> None:
    response = await installed.get(
        "/graphql", params={"query": "{ hello }"}, headers={"Accept": BROWSER_ACCEPT}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "hello world"}}


@pytest.mark.parametrize("rel", sorted(ASSETS.values()))
async def test_each_asset_is_served_from_node_modules(
    installed: httpx.AsyncClient, rel: str
) -> None:
    response = await installed.get(f"{STATIC_PREFIX}/{rel}")
    assert response.status_code == 200
    assert response.content == (NODE_MODULES / rel).read_bytes()
    expected = "text/css" if rel.endswith(".css") else "javascript"
    assert expected in response.headers["content-type"]


@pytest.mark.parametrize(
    "path",
    [
        "graphiql/package.json",
        "react/index.js",
        "graphiql/graphiql.min.js.map",
        "../../../pyproject.toml",
        "%2e%2e/%2e%2e/web/package.json",
        "",
    ],
)
async def test_only_the_allow_listed_files_are_served(
    installed: httpx.AsyncClient, path: str
) -> None:
    response = await installed.get(f"{STATIC_PREFIX}/{path}")
    assert response.status_code == 404


async def test_without_npm_packages_the_page_is_503_naming_make_install(
    not_installed: httpx.AsyncClient,
) -> None:
    for path in ("/graphql", "/graphiql"):
        response = await not_installed.get(path, headers={"Accept": BROWSER_ACCEPT})
        assert response.status_code == 503
        assert "make install" in response.text
    asset = await not_installed.get(f"{STATIC_PREFIX}/{ASSETS['graphiql_js']}")
    assert asset.status_code == 503
    assert "make install" in asset.text


async def test_without_npm_packages_graphql_itself_still_answers(
    not_installed: httpx.AsyncClient,
) -> None:
    response = await not_installed.post("/graphql", json={"query": "{ hello }"})
    assert response.json() == {"data": {"hello": "hello world"}}
