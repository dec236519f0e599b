"""Driving governed transitions in tests: tokens, mutations, waiting for operations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from adapters.store import RedisGovernanceStore
from domain.governance import Role
from domain.operations import Operation, OperationStatus
from gateway.auth import TokenAuthority
from gateway.governance_wiring import Governed
from sandboxes.firm import Firm
from tests.graph_support import GraphClient, graph_client
from tests.redis_support import REAL_REDIS_URL, real_redis_or_skip

__all__ = [
    "FAST",
    "as_role",
    "governed",
    "governed_client",
    "mutate",
    "open_opportunities",
    "wait_for_operation",
    "writes",
]

# Settings that keep transitions fast in tests: short step backoff, quick sweeps. (Inbound
# polling is off in every test gateway unless asked for: tests.graph_support.graph_client.)
FAST: dict[str, Any] = {"step_backoff_s": 0.001, "resume_interval_s": 0.05, "lease_ms": 10_000}


@asynccontextmanager
async def governed_client(
    firm: Firm,
    store_kind: str,
    sandbox_options: dict[str, dict[str, Any]] | None = None,
    **settings: Any,
) -> AsyncIterator[GraphClient]:
    """An in-process gateway whose store is the embedded Redis or the real one (own prefix)."""
    if store_kind == "embedded":
        async with graph_client(firm, sandbox_options, **{**FAST, **settings}) as client:
            yield client
        return
    async for _, prefix in real_redis_or_skip():
        async with graph_client(
            firm,
            sandbox_options,
            redis_url=REAL_REDIS_URL,
            redis_prefix=prefix,
            **{**FAST, **settings},  # a test's own settings override FAST
        ) as client:
            yield client


def governed(client: GraphClient) -> Governed:
    found: Governed = client.app.state.governed
    return found


def store(client: GraphClient) -> RedisGovernanceStore:
    return governed(client).store


def as_role(client: GraphClient, *roles: Role, subject: str = "tester") -> dict[str, str]:
    """Headers of a caller holding `roles`."""
    authority: TokenAuthority = client.app.state.token_authority
    return {"Authorization": f"Bearer {authority.mint(subject, roles)}"}


async def mutate(
    client: GraphClient,
    document: str,
    variables: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str],
    key: str | None = None,
) -> dict[str, Any]:
    """POST a mutation; `key` (default: a fresh one) goes in as $key."""
    values = {"key": key or uuid.uuid4().hex, **dict(variables or {})}
    response = await client.http.post(
        "/graphql", json={"query": document, "variables": values}, headers=dict(headers)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_for_operation(
    client: GraphClient, operation_id: str, timeout_s: float = 20.0
) -> Operation:
    """The operation once it left RUNNING (polling the store), or fail after `timeout_s`."""
    journal = store(client)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        operation = await journal.get_operation(operation_id)
        if operation is not None and operation.status is not OperationStatus.RUNNING:
            return operation
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{operation_id} still {operation} after {timeout_s}s")
        await asyncio.sleep(0.02)


_READS_OVER_POST = ("suiteql", "/token", "/composite/sobjects/Opportunity")


async def writes(client: GraphClient) -> dict[str, int]:
    """Per system, the calls that could change something (not reads, not token calls)."""
    counts: dict[str, int] = {}
    for name in ("salesforce", "kantata", "harvest", "netsuite"):
        by_endpoint = await client.by_endpoint(name)
        counts[name] = sum(
            n
            for endpoint, n in by_endpoint.items()
            if not endpoint.startswith("GET ")
            and not any(marker in endpoint for marker in _READS_OVER_POST)
        )
    return counts


async def open_opportunities(client: GraphClient) -> list[dict[str, Any]]:
    """Open deals (QUALIFYING engagements) with their CRM ids, as the graph lists them."""
    data = await client.data(
        """{ engagements(first: 100, filter: {status: QUALIFYING}) {
              nodes { key opportunity { crmId } } } }"""
    )
    nodes: list[dict[str, Any]] = data["engagements"]["nodes"]
    return nodes
