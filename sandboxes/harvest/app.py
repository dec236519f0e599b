"""The Harvest v2 sandbox application."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from sandboxes.control import ControlPlane, FaultMiddleware, Faults
from sandboxes.firm import Firm
from sandboxes.harvest.errors import HarvestError, message, not_found, server_error, throttled
from sandboxes.harvest.gate import HarvestGate, RateLimiter
from sandboxes.harvest.routes import HarvestAccount

__all__ = ["HARVEST_ACCOUNT_ID", "HARVEST_TOKEN", "create_app"]

HARVEST_TOKEN = "harvest-demo-token"
HARVEST_ACCOUNT_ID = "1234567"


async def _vendor_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HarvestError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return not_found().response()
    return message(exc.status_code, str(exc.detail)).response()


def create_app(
    firm: Firm,
    *,
    faults: Faults | None = None,
    seed: int = 0,
    rate_limit: int | None = 100,
    rate_window_s: float = 15.0,
    clock: Callable[[], float] = time.monotonic,
    tokens: Mapping[str, Iterable[str]] | None = None,
    report_rate_limit: int | None = 100,
    report_rate_window_s: float = 900.0,
    uninvoiced_includes_unapproved: bool = False,
    invoice_imports_unapproved: bool = False,
) -> Starlette:
    """Build the Harvest sandbox seeded from `firm`.

    `rate_limit` requests per `rate_window_s` seconds per token+account (Harvest's
    100 / 15 s by default; None disables it), measured on `clock`; Reports API
    calls are counted apart, `report_rate_limit` per `report_rate_window_s`
    (100 / 15 min by default; None disables it). `tokens` maps each accepted
    personal access token to the account ids it may use; by default only
    `HARVEST_TOKEN` for `HARVEST_ACCOUNT_ID`. `uninvoiced_includes_unapproved`
    makes the Uninvoiced report count work awaiting approval (unverified which
    Harvest does; by default only approved work counts); `invoice_imports_unapproved`
    makes ``POST /v2/invoices`` import it too (unverified; by default it does not).
    """
    for name, limit in (("rate_limit", rate_limit), ("report_rate_limit", report_rate_limit)):
        if limit is not None and limit < 1:
            raise ValueError(f"{name} must be at least 1 (or None to disable it)")
    account = HarvestAccount(
        firm,
        uninvoiced_includes_unapproved=uninvoiced_includes_unapproved,
        invoice_imports_unapproved=invoice_imports_unapproved,
    )
    limiters = {
        "requests": RateLimiter(rate_limit, rate_window_s, clock) if rate_limit else None,
        "reports": (
            RateLimiter(report_rate_limit, report_rate_window_s, clock)
            if report_rate_limit
            else None
        ),
    }

    def reset_state() -> None:
        account.reset()
        for limiter in limiters.values():
            if limiter is not None:
                limiter.reset()

    control = ControlPlane(reset_state=reset_state, faults=faults, seed=seed)
    grants = {
        token: frozenset(accounts)
        for token, accounts in (tokens or {HARVEST_TOKEN: [HARVEST_ACCOUNT_ID]}).items()
    }
    return Starlette(
        routes=[*control.routes(), *account.routes()],
        middleware=[
            Middleware(
                FaultMiddleware, control=control, throttled=throttled, server_error=server_error
            ),
            Middleware(
                HarvestGate,
                tokens=grants,
                limiter=limiters["requests"],
                report_limiter=limiters["reports"],
            ),
        ],
        exception_handlers={HarvestError: _vendor_error, HTTPException: _http_error},
    )
