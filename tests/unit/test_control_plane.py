"""The sandboxes' shared fault settings refuse what would break the sandbox."""

from __future__ import annotations

import math

import pytest

from sandboxes.control import Faults


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_fault_values_are_refused_and_nothing_changes(value: float) -> None:
    faults = Faults()
    problems = faults.update({"latency_ms": 5, "error_rate": value})
    assert problems == ["error_rate must be a finite number"]
    assert faults.latency_ms == 0 and faults.error_rate == 0


def test_rates_outside_zero_to_one_and_unknown_keys_are_refused() -> None:
    faults = Faults()
    assert faults.update({"error_rate": 1.5, "colour": 1}) == [
        "error_rate out of range: 1.5",
        "unknown fault setting 'colour'",
    ]


def test_valid_values_apply() -> None:
    faults = Faults()
    assert faults.update({"latency_ms": 40, "retry_after_s": 2.0}) == []
    assert (faults.latency_ms, faults.retry_after_s) == (40.0, 2)


async def test_error_after_applies_the_request_then_loses_its_answer() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from sandboxes.control import ControlPlane, FaultMiddleware

    applied: list[str] = []

    async def write(request: Request) -> Response:
        applied.append(request.method)
        return JSONResponse({"ok": True}, status_code=201)

    control = ControlPlane(reset_state=lambda: None)
    app = Starlette(routes=[*control.routes(), Route("/things", write, methods=["POST"])])
    wrapped = FaultMiddleware(
        app,
        control,
        throttled=lambda faults: JSONResponse({}, status_code=429),
        server_error=lambda status: JSONResponse({"lost": True}, status_code=status),
    )
    import httpx

    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
        assert (await client.post("/__sandbox/faults", json={"error_after_rate": 1})).is_success
        lost = await client.post("/things")
        assert lost.status_code in (500, 503) and lost.json() == {"lost": True}
        assert applied == ["POST"]  # the write happened all the same
        await client.post("/__sandbox/faults", json={"error_after_rate": 0})
        assert (await client.post("/things")).status_code == 201
        assert applied == ["POST", "POST"]
