"""The Salesforce sandbox app: OAuth, the REST API v60.0 and the control plane.

`create_app` seeds an org from the firm and mounts ``/services/oauth2/token``,
the API routes under ``/services/data/v60.0`` and ``/__sandbox/*``, wrapped
in `FaultMiddleware` with Salesforce's own throttle answer (403
REQUEST_LIMIT_EXCEEDED) and server errors (500 UNKNOWN_EXCEPTION /
503 SERVER_UNAVAILABLE). Committed Opportunity writes are pushed as Change
Data Capture events to the webhook registered at ``/__sandbox/webhooks``
(`sandboxes.salesforce.cdc`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from sandboxes.control import ControlPlane, FaultMiddleware, Faults
from sandboxes.firm import Firm
from sandboxes.salesforce.auth import TokenStore
from sandboxes.salesforce.cdc import ChangeCapture, ChangeCaptureMiddleware
from sandboxes.salesforce.cursors import CursorStore
from sandboxes.salesforce.errors import server_error_response, throttled_response
from sandboxes.salesforce.limits import DEFAULT_DAILY_LIMIT, ApiUsage
from sandboxes.salesforce.org import Org
from sandboxes.salesforce.routes.api import api_route, unknown_resource
from sandboxes.salesforce.routes.collections import collection_routes
from sandboxes.salesforce.routes.composite import composite_routes
from sandboxes.salesforce.routes.query import query_routes
from sandboxes.salesforce.routes.sobjects import sobject_routes
from sandboxes.salesforce.schema import SCHEMAS
from sandboxes.salesforce.state import OrgState
from sandboxes.webhooks import WebhookSender, webhook_routes

__all__ = ["SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET", "create_app"]

SALESFORCE_CLIENT_ID = "eg-demo-client"
SALESFORCE_CLIENT_SECRET = "eg-demo-secret"
DEFAULT_TOKEN_TTL_S = 7200.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    firm: Firm,
    *,
    faults: Faults | None = None,
    seed: int = 0,
    daily_limit: int = DEFAULT_DAILY_LIMIT,
    token_ttl_s: float = DEFAULT_TOKEN_TTL_S,
    clock: Callable[[], datetime] = _utcnow,
) -> Starlette:
    """A Salesforce org seeded from `firm`.

    `clock` (aware UTC datetimes) drives write stamps, token expiry, cursor
    expiry and the API-usage window; tests pass a fake one. `daily_limit` is
    the org's API allocation per rolling 24 hours.
    """
    state = OrgState(firm, seed=seed, clock=clock)
    org_id = f"00D{state.ids.mint('00D')[3:15]}"
    tokens = TokenStore(
        client_id=SALESFORCE_CLIENT_ID,
        client_secret=SALESFORCE_CLIENT_SECRET,
        org_id=org_id,
        usernames=lambda: {r["Username"]: r["Id"] for r in state.tables["User"].values()},
        integration_user=lambda: state.integration_user_id,
        clock=clock,
        ttl_s=token_ttl_s,
        seed=firm.seed + seed,
    )
    usage = ApiUsage(clock, daily_limit)
    org = Org(state, tokens, usage, CursorStore(clock), clock)
    control = ControlPlane(reset_state=org.reset, faults=faults, seed=seed)
    webhooks = WebhookSender(user_agent="SFDC-Callout/60.0")  # the org's CDC relay
    capture = ChangeCapture(state, webhooks)
    app: Starlette | None = None

    def router() -> Starlette:
        assert app is not None
        return app

    routes = [
        *control.routes(),
        *webhook_routes(webhooks),
        Route("/services/oauth2/token", tokens.token_endpoint, methods=["POST"]),
        api_route(org, "/limits", {"GET": usage.limits_endpoint}),
        *query_routes(org),
        *sobject_routes(org),
        *collection_routes(org),
        *composite_routes(org, lambda: router().router),
        *unknown_resource(org),
    ]
    middleware = [
        Middleware(
            FaultMiddleware,
            control=control,
            throttled=throttled_response(usage.header),
            server_error=server_error_response(),
        ),
        Middleware(ChangeCaptureMiddleware, capture=capture),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.org = org
    app.state.schemas = SCHEMAS
    app.state.webhooks = webhooks
    return app
