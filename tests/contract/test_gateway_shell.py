"""The gateway shell against the four in-process sandboxes: health, readiness, GraphQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from sandboxes.firm import Firm
from tests.sandbox_support import InProcessSandboxes

SYSTEMS_QUERY = "{ systems { name ok latencyMs breaker detail } }"


@pytest.fixture
def sandboxes(firm: Firm) -> InProcessSandboxes:
    return InProcessSandboxes.start(firm)


@pytest.fixture
async def gateway(sandboxes: InProcessSandboxes) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        salesforce_url="http://salesforce",
        kantata_url="http://kantata",
        harvest_url="http://harvest",
        netsuite_url="http://netsuite",
        retry_backoff_base_s=0.001,
        retry_backoff_max_s=0.002,
        breaker_failure_threshold=2,
        readiness_timeout_s=0.5,
        timeout_s=0.3,
    )
    app = create_app(settings, transports=sandboxes.transports())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        yield client


async def test_healthz_answers_without_touching_the_systems(
    gateway: httpx.AsyncClient, sandboxes: InProcessSandboxes
) -> None:
    response = await gateway.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert [await sandboxes.calls(n) for n in ("salesforce", "netsuite")] == [0, 0]


async def test_readyz_reports_redis_and_every_system(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert body["redis"] == {"ok": True, "embedded": True, "detail": None}
    assert set(body["systems"]) == {"salesforce", "kantata", "harvest", "netsuite"}
    assert all(s["ok"] and s["breaker"] == "CLOSED" for s in body["systems"].values())


async def test_systems_query_reports_health_and_latency(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/graphql", json={"query": SYSTEMS_QUERY})
    assert response.status_code == 200
    systems = response.json()["data"]["systems"]
    assert [s["name"] for s in systems] == ["salesforce", "kantata", "harvest", "netsuite"]
    for s in systems:
        assert s["ok"] is True, s
        assert s["latencyMs"] >= 0
        assert s["breaker"] == "CLOSED"


async def test_a_down_system_makes_readyz_503_and_opens_its_breaker(
    gateway: httpx.AsyncClient, sandboxes: InProcessSandboxes
) -> None:
    await sandboxes.set_faults("harvest", error_rate=1.0)
    first = await gateway.get("/readyz")
    assert first.status_code == 503
    harvest = first.json()["systems"]["harvest"]
    assert harvest["ok"] is False
    assert harvest["breaker"] == "OPEN"  # 3 failed attempts ≥ threshold 2
    assert first.json()["systems"]["netsuite"]["ok"] is True
    calls_before = await sandboxes.calls("harvest")
    response = await gateway.post("/graphql", json={"query": SYSTEMS_QUERY})
    harvest_row = next(s for s in response.json()["data"]["systems"] if s["name"] == "harvest")
    assert harvest_row["ok"] is False
    assert "breaker" in harvest_row["detail"]
    assert await sandboxes.calls("harvest") == calls_before  # open breaker: no call went out


async def test_a_hanging_system_is_reported_within_the_readiness_timeout(
    gateway: httpx.AsyncClient, sandboxes: InProcessSandboxes
) -> None:
    await sandboxes.set_faults("kantata", timeout_rate=1.0)
    response = await gateway.get("/readyz")
    assert response.status_code == 503
    kantata = response.json()["systems"]["kantata"]
    assert kantata["ok"] is False
    assert response.json()["systems"]["salesforce"]["ok"] is True


async def test_correlation_id_is_echoed_or_minted(gateway: httpx.AsyncClient) -> None:
    mine = await gateway.get("/healthz", headers={"X-Correlation-ID": "abc-123"})
    assert mine.headers["X-Correlation-ID"] == "abc-123"
    minted = await gateway.get("/healthz", headers={"X-Correlation-ID": "bad id\twith spaces"})
    assert minted.headers["X-Correlation-ID"] not in ("", "bad id\twith spaces")
    assert len(minted.headers["X-Correlation-ID"]) == 32


async def test_every_vendor_call_carries_the_request_correlation_id(
    gateway: httpx.AsyncClient, sandboxes: InProcessSandboxes
) -> None:
    response = await gateway.post(
        "/graphql", json={"query": SYSTEMS_QUERY}, headers={"X-Correlation-ID": "trace-42"}
    )
    assert response.headers["X-Correlation-ID"] == "trace-42"
    for name in ("salesforce", "kantata", "harvest", "netsuite"):
        async with sandboxes.control(name) as client:
            seen = (await client.get("/__sandbox/requests")).json()["requests"]
        api_calls = [r for r in seen if "token" not in r["path"]]
        assert api_calls, name
        assert {r["correlation_id"] for r in api_calls} == {"trace-42"}, name
