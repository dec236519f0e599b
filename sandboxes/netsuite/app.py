"""The NetSuite sandbox application: REST record service, SuiteQL, async jobs, OAuth 2.0.

Middleware, outermost first: concurrency governance (429), then the shared
`FaultMiddleware` (call counting, latency, injected 429 / 5xx in NetSuite's
problem JSON), then the routes. ``/__sandbox/...`` is the shared control
plane; ``POST /__sandbox/reset`` rebuilds the account from the firm.
``/__sandbox/webhooks`` registers where the deployed User Event script posts
its notices (`sandboxes.netsuite.userevents`).
Unknown paths and methods answer in NetSuite's error shape.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.control import ControlPlane, FaultMiddleware, Faults
from sandboxes.firm import Firm
from sandboxes.netsuite.asyncjobs import async_routes
from sandboxes.netsuite.auth import TokenIssuer
from sandboxes.netsuite.build import build_store
from sandboxes.netsuite.errors import (
    NsError,
    problem_response,
    server_error_response,
    throttled_response,
)
from sandboxes.netsuite.governance import DEFAULT_CONCURRENCY_LIMIT, ConcurrencyGovernor
from sandboxes.netsuite.records import record_routes
from sandboxes.netsuite.state import Store
from sandboxes.netsuite.suiteql.route import suiteql_routes
from sandboxes.netsuite.userevents import UserEvents
from sandboxes.webhooks import WebhookSender, webhook_routes

__all__ = ["OAUTH_ROOT", "NetSuiteAccount", "create_netsuite_app"]

OAUTH_ROOT = "/services/rest/auth/oauth2/v1"


class NetSuiteAccount:
    """The mutable account behind one sandbox app (its store is rebuilt on reset)."""

    def __init__(self, firm: Firm) -> None:
        self.firm = firm
        self.store: Store = build_store(firm)

    def reset(self) -> None:
        self.store = build_store(self.firm)

    def current(self) -> Store:
        return self.store


async def _ns_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NsError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return problem_response(
            405, "METHOD_NOT_ALLOWED", f"The HTTP method {request.method} is not allowed here."
        )
    if exc.status_code == 404:
        return problem_response(
            404, "NONEXISTENT_ID", f"The resource '{request.url.path}' does not exist."
        )
    return problem_response(exc.status_code, "USER_ERROR", str(exc.detail))


def create_netsuite_app(
    firm: Firm,
    *,
    account_id: str,
    client_id: str,
    client_secret: str,
    faults: Faults | None = None,
    seed: int = 0,
    concurrency_limit: int = DEFAULT_CONCURRENCY_LIMIT,
) -> Starlette:
    account = NetSuiteAccount(firm)
    control = ControlPlane(reset_state=account.reset, faults=faults, seed=seed)
    tokens = TokenIssuer(
        account_id=account_id, client_id=client_id, client_secret=client_secret, seed=seed
    )
    webhooks = WebhookSender(user_agent="Mozilla/5.0 (compatible; NetSuite SuiteScript N/https)")
    routes = [
        *control.routes(),
        *webhook_routes(webhooks),
        Route(f"{OAUTH_ROOT}/token", tokens.token_endpoint, methods=["POST"]),
        Route(f"{OAUTH_ROOT}/revoke", tokens.revoke_endpoint, methods=["POST"]),
        *record_routes(account.current, tokens.authenticate, UserEvents(webhooks)),
        *suiteql_routes(account.current, tokens.authenticate),
        *async_routes(account.current, tokens.authenticate),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(ConcurrencyGovernor, control=control, limit=concurrency_limit),
            Middleware(
                FaultMiddleware,
                control=control,
                throttled=lambda _faults: throttled_response(),
                server_error=server_error_response,
            ),
        ],
        exception_handlers={NsError: _ns_error, HTTPException: _http_error},
    )
    app.state.netsuite = account
    app.state.control = control
    app.state.webhooks = webhooks
    return app
