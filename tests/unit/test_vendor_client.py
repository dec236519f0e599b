"""VendorClient's policy against a scripted HTTP peer (a tiny ASGI app, not our code)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.http import VendorClient, correlation_id, request_deadline
from adapters.resilience import ResiliencePolicy
from domain.errors import (
    AdapterError,
    AuthFailed,
    CircuitOpen,
    UpstreamRejected,
    UpstreamUnavailable,
)
from domain.health import BreakerState
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


class HangingPeer(httpx.AsyncBaseTransport):
    """A peer that never answers: each request waits out the timeout httpx gives it.

    The wait passes on a fake clock (no real waiting): the clock moves on by the
    request's read timeout, then the read times out, as httpcore would report it.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.timeouts: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = float(request.extensions["timeout"]["read"])
        self.timeouts.append(timeout)
        self.clock.now += timeout
        raise httpx.ReadTimeout("no answer", request=request)


def deadline_client(
    transport: httpx.AsyncBaseTransport, clock: FakeClock, sleeps: RecordedSleeps, **policy: float
) -> VendorClient:
    vc = VendorClient(
        system="peer",
        base_url="http://peer",
        policy=ResiliencePolicy(**{"backoff_base_s": 0.01, **policy}),  # type: ignore[arg-type]
        translate=translate,
        transport=transport,
        sleep=sleeps,
        clock=clock,
    )
    vc.breaker.clock = clock
    return vc


@contextmanager
def deadline_in(clock: FakeClock, seconds: float) -> Iterator[None]:
    """Run the block as the gateway runs a request whose deadline is `seconds` away."""
    token = request_deadline.set(clock() + seconds)
    try:
        yield
    finally:
        request_deadline.reset(token)


async def test_a_hanging_peer_costs_the_request_budget_not_every_attempt() -> None:
    clock = FakeClock()
    peer, sleeps = HangingPeer(clock), RecordedSleeps(clock=clock)
    vc = deadline_client(peer, clock, sleeps, timeout_s=5, max_attempts=3)
    started = clock()
    with deadline_in(clock, 0.3), pytest.raises(UpstreamUnavailable, match="deadline"):
        await vc.request("GET", "/x")
    assert peer.timeouts == [pytest.approx(0.3)]
    assert clock() - started == pytest.approx(0.3)
    assert sleeps.delays == []


async def test_an_attempt_cut_short_by_the_deadline_is_not_a_breaker_failure() -> None:
    clock = FakeClock()
    peer, sleeps = HangingPeer(clock), RecordedSleeps(clock=clock)
    vc = deadline_client(peer, clock, sleeps, timeout_s=0.1, breaker_failure_threshold=3)
    with deadline_in(clock, 0.25), pytest.raises(UpstreamUnavailable, match="deadline"):
        await vc.request("GET", "/x")
    # Two whole timeouts, then what was left: it is 0.25 s in all, backoff included.
    assert peer.timeouts[:2] == [0.1, 0.1]
    assert len(peer.timeouts) == 3 and peer.timeouts[2] < 0.1
    assert sum(peer.timeouts) + sum(sleeps.delays) == pytest.approx(0.25)
    assert vc.breaker_state is BreakerState.CLOSED  # 2 failures, not 3


async def test_no_retry_is_scheduled_past_the_deadline() -> None:
    clock = FakeClock()
    script, sleeps = Script((503, {"Retry-After": "1"})), RecordedSleeps(clock=clock)
    vc = deadline_client(httpx.ASGITransport(app=script.app()), clock, sleeps)
    with deadline_in(clock, 0.3), pytest.raises(UpstreamUnavailable) as caught:
        await vc.request("GET", "/x")
    assert caught.value.vendor_message == "scripted 503"  # the last failure, as it was
    assert sleeps.delays == []
    assert len(script.seen) == 1


async def test_a_retry_that_fits_before_the_deadline_still_happens() -> None:
    clock = FakeClock()
    script, sleeps = Script((503, {"Retry-After": "1"})), RecordedSleeps(clock=clock)
    vc = deadline_client(httpx.ASGITransport(app=script.app()), clock, sleeps)
    with deadline_in(clock, 1.5):
        response = await vc.request("GET", "/x")
    assert response.status_code == 200
    assert sleeps.delays == [1.0]
    assert len(script.seen) == 2


async def test_no_call_starts_after_the_deadline_and_the_breaker_is_untouched() -> None:
    clock = FakeClock()
    script, sleeps = Script((500, {})), RecordedSleeps(clock=clock)
    vc = deadline_client(
        httpx.ASGITransport(app=script.app()),
        clock,
        sleeps,
        max_attempts=1,
        breaker_failure_threshold=1,
    )
    with pytest.raises(UpstreamUnavailable):
        await vc.request("GET", "/x")  # opens the breaker
    clock.now += 60  # half-open: one trial may go
    with (
        deadline_in(clock, 0),
        pytest.raises(UpstreamUnavailable, match="request deadline reached before the call"),
    ):
        await vc.request("GET", "/x")
    assert len(script.seen) == 1
    response = await vc.request("GET", "/x")  # the trial slot was not taken
    assert response.status_code == 200


async def test_without_a_deadline_every_attempt_gets_the_whole_timeout() -> None:
    clock = FakeClock()
    peer, sleeps = HangingPeer(clock), RecordedSleeps(clock=clock)
    vc = deadline_client(peer, clock, sleeps, timeout_s=5, max_attempts=3)
    with pytest.raises(UpstreamUnavailable, match=r"timed out after 5\.?0?s \(ReadTimeout\)"):
        await vc.request("GET", "/x")
    assert peer.timeouts == [5.0, 5.0, 5.0]
    assert len(sleeps.delays) == 2
