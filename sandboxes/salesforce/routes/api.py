"""What every REST API call goes through: session check, API allocation, error shape.

`api_route` builds a Starlette route whose handler map is keyed by HTTP
method. Before the handler runs, the bearer token is checked (401
INVALID_SESSION_ID) and one request of the rolling 24 h allocation is used (403
REQUEST_LIMIT_EXCEEDED once it is gone); a method the resource lacks gets
405 METHOD_NOT_ALLOWED. Every answer carries ``Sforce-Limit-Info``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.salesforce.errors import SalesforceError, not_found
from sandboxes.salesforce.org import Org
from sandboxes.salesforce.routes.subrequest import SUBREQUEST
from sandboxes.salesforce.schema import SObjectSchema, schema_for
from sandboxes.salesforce.serialize import parse_json
from sandboxes.salesforce.soql import SoqlError

__all__ = ["API_PREFIX", "Handler", "api_route", "read_json", "sobject_schema", "unknown_resource"]

API_PREFIX = "/services/data/v60.0"
Handler = Callable[[Request], Awaitable[Response]]
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def api_route(org: Org, path: str, handlers: Mapping[str, Handler]) -> Route:
    """A route under ``/services/data/v60.0`` dispatching on the method."""
    allowed = ",".join(sorted({*handlers, "HEAD"} if "GET" in handlers else handlers))

    async def endpoint(request: Request) -> Response:
        try:
            org.tokens.authenticate(request)
            if not request.scope.get(SUBREQUEST):  # a composite call counts once
                org.usage.consume()
            method = "GET" if request.method == "HEAD" else request.method
            handler = handlers.get(method)
            if handler is None:
                raise SalesforceError(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}",
                )
            response = await handler(request)
        except SalesforceError as exc:
            response = exc.response()
        except SoqlError as exc:
            response = SalesforceError(400, exc.code, exc.message).response()
        response.headers["Sforce-Limit-Info"] = org.usage.header()
        return response

    return Route(API_PREFIX + path, endpoint, methods=_ALL_METHODS)


def unknown_resource(org: Org) -> list[Route]:
    """Vendor-shaped 404 for any other path (after the session check under the API)."""

    async def missing(request: Request) -> Response:
        raise not_found()

    api = api_route(
        org, "/{rest:path}", {m: missing for m in ("GET", "POST", "PATCH", "PUT", "DELETE")}
    )

    async def elsewhere(request: Request) -> Response:
        return not_found().response()

    return [api, Route("/{rest:path}", elsewhere, methods=_ALL_METHODS)]


async def read_json(request: Request) -> Any:
    """The request body as JSON (numbers as Decimal), or 400 JSON_PARSER_ERROR."""
    raw = await request.body()
    if not raw.strip():
        raise SalesforceError(
            400, "JSON_PARSER_ERROR", "No content to map due to end-of-input at [line:1, column:0]"
        )
    try:
        return parse_json(raw)
    except json.JSONDecodeError as exc:
        raise SalesforceError(
            400,
            "JSON_PARSER_ERROR",
            f"Unexpected character ({exc.msg}) at [line:{exc.lineno}, column:{exc.colno}]",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise SalesforceError(400, "JSON_PARSER_ERROR", str(exc)) from None


def sobject_schema(request: Request) -> SObjectSchema:
    """The sObject named in the path, or 404 NOT_FOUND."""
    schema = schema_for(request.path_params["sobject"])
    if schema is None:
        raise not_found()
    return schema
