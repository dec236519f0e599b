"""VendorClient's policy against a scripted HTTP peer (a tiny ASGI app, not our code)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http import VendorClient, correlation_id
from adapters.resilience import ResiliencePolicy
from domain.errors import (
    AdapterError,
    AuthFailed,
    CircuitOpen,
    UpstreamRejected,
    UpstreamUnavailable,
)
from tests.support import FakeClock, RecordedSleeps


class Script:
    """Answers each request with the next scripted (status, headers) pair."""

    def __init__(self, *answers: tuple[int, dict[str, str]]) -> None:
        self.answers = list(answers)
        self.seen: list[Request] = []
        self.arrived = asyncio.Event()

    async def endpoint(self, request: Request) -> Response:
        self.seen.append(request)
        self.arrived.set()
        if not self.answers:
            return JSONResponse({"ok": True})
        status, headers = self.answers.pop(0)
        if status == 0:  # hang
            await asyncio.sleep(30)
        return JSONResponse({"message": f"scripted {status}"}, status, headers=headers)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/x", self.endpoint, methods=["GET", "POST"])])


def translate(response: httpx.Response) -> AdapterError:
    kind = UpstreamUnavailable if response.status_code >= 429 else UpstreamRejected
    return kind(
        f"HTTP {response.status_code}",
        system="peer",
        status=response.status_code,
        vendor_message=response.json().get("message"),
    )


class Token:
    def __init__(self) -> None:
        self.invalidations = 0

    async def headers(self, http: httpx.AsyncClient) -> Mapping[str, str]:
        return {"Authorization": f"Bearer t{self.invalidations}"}

    def invalidate(self) -> None:
        self.invalidations += 1


def client(script: Script, sleeps: RecordedSleeps, **policy: float) -> VendorClient:
    return VendorClient(
        system="peer",
        base_url="http://peer",
        policy=ResiliencePolicy(**{"backoff_base_s": 0.01, **policy}),  # type: ignore[arg-type]
        translate=translate,
        transport=httpx.ASGITransport(app=script.app()),
        sleep=sleeps,
        credentials=Token(),
    )


async def test_retry_after_is_honoured_between_attempts() -> None:
    script, sleeps = Script((429, {"Retry-After": "3"}), (503, {})), RecordedSleeps()
    response = await client(script, sleeps).request("GET", "/x")
    assert response.status_code == 200
    assert len(script.seen) == 3
    assert sleeps.delays[0] == 3.0
    assert 0 <= sleeps.delays[1] <= 0.02


async def test_a_retry_after_beyond_the_maximum_fails_fast() -> None:
    script, sleeps = Script((429, {"Retry-After": "120"})), RecordedSleeps()
    with pytest.raises(UpstreamUnavailable):
        await client(script, sleeps, retry_after_max_s=10).request("GET", "/x")
    assert sleeps.delays == []
    assert len(script.seen) == 1


async def test_writes_without_an_idempotency_key_are_not_retried() -> None:
    script, sleeps = Script((503, {})), RecordedSleeps()
    with pytest.raises(UpstreamUnavailable):
        await client(script, sleeps).request("POST", "/x", json={})
    assert len(script.seen) == 1


async def test_idempotent_writes_are_retried() -> None:
    script, sleeps = Script((503, {})), RecordedSleeps()
    response = await client(script, sleeps).request("POST", "/x", json={}, idempotent=True)
    assert response.status_code == 200
    assert len(script.seen) == 2


async def test_retries_are_bounded_then_surface_as_unavailable() -> None:
    script, sleeps = Script(*[(500, {})] * 5), RecordedSleeps()
    with pytest.raises(UpstreamUnavailable) as caught:
        await client(script, sleeps, max_attempts=3).request("GET", "/x")
    assert len(script.seen) == 3
    assert caught.value.system == "peer"
    assert caught.value.vendor_message == "scripted 500"


async def test_a_rejection_is_not_retried_and_keeps_the_vendor_message() -> None:
    script, sleeps = Script((422, {})), RecordedSleeps()
    with pytest.raises(UpstreamRejected) as caught:
        await client(script, sleeps).request("GET", "/x")
    assert len(script.seen) == 1
    assert "scripted 422" in str(caught.value)


async def test_a_refused_token_is_refreshed_once_then_auth_fails() -> None:
    script, sleeps = Script((401, {}), (401, {})), RecordedSleeps()
    vc = client(script, sleeps)
    with pytest.raises(AuthFailed):
        await vc.request("GET", "/x")
    assert [r.headers["Authorization"] for r in script.seen] == ["Bearer t0", "Bearer t1"]


async def test_a_hanging_peer_times_out() -> None:
    script, sleeps = Script((0, {}), (0, {})), RecordedSleeps()
    with pytest.raises(UpstreamUnavailable, match="timed out"):
        await client(script, sleeps, timeout_s=0.05, max_attempts=2).request("GET", "/x")
    assert len(script.seen) == 2


async def test_open_breaker_refuses_without_calling() -> None:
    script, sleeps = Script(*[(500, {})] * 4), RecordedSleeps()
    vc = client(script, sleeps, max_attempts=2, breaker_failure_threshold=2)
    with pytest.raises(UpstreamUnavailable):
        await vc.request("GET", "/x")
    with pytest.raises(CircuitOpen):
        await vc.request("GET", "/x")
    assert len(script.seen) == 2


async def test_the_correlation_id_goes_out_with_every_call() -> None:
    script, sleeps = Script(), RecordedSleeps()
    token = correlation_id.set("cid-1")
    try:
        await client(script, sleeps).request("GET", "/x")
    finally:
        correlation_id.reset(token)
    assert script.seen[0].headers["X-Correlation-ID"] == "cid-1"


async def test_a_cancelled_half_open_trial_does_not_wedge_the_breaker() -> None:
    clock = FakeClock()
    script, sleeps = Script((500, {}), (0, {})), RecordedSleeps()
    vc = client(script, sleeps, max_attempts=1, breaker_failure_threshold=1)
    vc.breaker.clock = clock
    with pytest.raises(UpstreamUnavailable):
        await vc.request("GET", "/x")  # opens the breaker
    clock.now += 60  # half-open: one trial may go
    script.arrived.clear()
    trial = asyncio.create_task(vc.request("GET", "/x"))
    await asyncio.wait_for(script.arrived.wait(), 5)  # the peer now hangs on the trial
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    response = await vc.request("GET", "/x")  # the next call is allowed as a new trial
    assert response.status_code == 200
