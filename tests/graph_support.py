"""An in-process gateway over the four in-process sandboxes, for graph tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.config import Settings
from gateway.graphiql_examples import FINANCE_DASHBOARD
from sandboxes.firm import Firm
from tests.sandbox_support import InProcessSandboxes

__all__ = ["AS_OF", "FINANCE_DASHBOARD", "GraphClient", "graph_client"]

AS_OF = date(2026, 10, 31)  # the demo firm's last day
SYSTEMS = ("salesforce", "kantata", "harvest", "netsuite")


class GraphClient:
    def __init__(
        self, http: httpx.AsyncClient, sandboxes: InProcessSandboxes, app: Starlette
    ) -> None:
        self.http = http
        self.sandboxes = sandboxes
        self.app = app

    async def query(
        self, query: str, variables: Mapping[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": dict(variables or {})}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        """The data of a query that must succeed without errors."""
        body = await self.query(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def reset_calls(self) -> None:
        for name in SYSTEMS:
            async with self.sandboxes.control(name) as control:
                await control.post("/__sandbox/calls/reset")

    async def calls(self) -> dict[str, int]:
        return {name: await self.sandboxes.calls(name) for name in SYSTEMS}

    async def by_endpoint(self, name: str) -> dict[str, int]:
        async with self.sandboxes.control(name) as control:
            counts: dict[str, int] = (await control.get("/__sandbox/calls")).json()["by_endpoint"]
        return counts


@asynccontextmanager
async def graph_client(
    firm: Firm, sandbox_options: dict[str, dict[str, Any]] | None = None, **settings: Any
) -> AsyncIterator[GraphClient]:
    sandboxes = InProcessSandboxes.start(firm, sandbox_options)
    # No inbound polling unless a test asks for it: its reads would count as the test's.
    settings.setdefault("sync_poll_interval_s", 0)
    config = Settings(
        salesforce_url="http://salesforce",
        kantata_url="http://kantata",
        harvest_url="http://harvest",
        netsuite_url="http://netsuite",
        retry_backoff_base_s=0.001,
        retry_backoff_max_s=0.002,
        as_of=AS_OF,
        **settings,
    )
    app = create_app(config, transports=sandboxes.transports())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
    ):
        yield GraphClient(http, sandboxes, app)
