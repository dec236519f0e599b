"""GraphQL over HTTP as the spec describes it, on top of strawberry's ASGI view.

https://graphql.github.io/graphql-over-http/draft/ — status codes:

    200  executed: `data` present, even null or with field errors
    400  request error (syntax, validation, variable coercion, operation
         selection) when answering application/graphql-response+json;
         200 with application/json (the spec's legacy rule); no `data` entry
    400  malformed request: bad JSON, not UTF-8, a batch (JSON array),
         missing or non-string `query`, `variables` / `extensions` not
         objects, `operationName` not a string; subscriptions over HTTP
    405  a mutation over GET (`Allow: POST`); any method but GET and POST
         (`Allow: GET, POST`)
    406  Accept names neither application/graphql-response+json nor
         application/json (nor a wildcard)
    415  POST whose Content-Type is not application/json (UTF-8)
    500  the gateway's own fault outside execution (masked, never for bad input)

Every body is GraphQL-shaped (`{"errors": [{"message": ...}]}`). Unexpected
errors are masked (gateway.error_masking). Subscriptions are served over
WebSockets (gateway.graphql_ws, gateway.graphql_ws_legacy) and, for a request
whose Accept names text/event-stream, over SSE (gateway.graphql_sse).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from domain.governance import Principal
from gateway.auth import principal_of
from gateway.error_masking import format_errors, internal_error
from gateway.graphiql import GraphiQLPage
from gateway.graphql_request import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    GraphQLParams,
    RequestRejected,
    accepts_html,
    negotiate,
    params_from_body,
    params_from_query_string,
)
from gateway.graphql_ws import LiveTransport, TransportWSHandler, WSConnection
from gateway.graphql_ws_legacy import LegacyWSHandler
from resolvers.context import Context

__all__ = [
    "ContextMaker",
    "GraphQLView",
    "bounded_body",
    "correlation_id_of",
    "operations_of",
    "wants_event_stream",
]

logger = logging.getLogger("gateway.graphql")

ContextMaker = Callable[[str, Principal | None], Any]  # (correlation id, caller)
_ALLOWED = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}


def wants_event_stream(accept: str | None) -> bool:
    """Whether the client asks for GraphQL over SSE (Accept names text/event-stream)."""
    return any(
        part.split(";", 1)[0].strip().lower() == "text/event-stream"
        for part in (accept or "").split(",")
    )


def correlation_id_of(scope: Scope) -> str:
    """The ID CorrelationIdMiddleware put in the scope ("" if it did not run)."""
    cid = scope.get("state", {}).get("correlation_id", "")
    return cid if isinstance(cid, str) else ""


class GraphQLView(GraphQL[Any, None]):
    """`/graphql`: queries over GET, queries and mutations over POST, GraphiQL for browsers.

    `make_context(correlation_id, principal)` builds each request's context; `schema` is
    any strawberry schema (tests mount their own). With `live`, WebSockets follow the
    gateway's rules (auth in connection_init, caps, a context per operation); `sse`
    serves requests that accept text/event-stream.
    """

    def __init__(
        self,
        schema: BaseSchema,
        make_context: ContextMaker,
        *,
        graphiql: GraphiQLPage | None = None,
        live: LiveTransport | None = None,
        sse: ASGIApp | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=True)
        self._make_context = make_context
        self._graphiql = graphiql
        self._sse = sse
        self.live = live
        if live is not None:
            self.connection_init_wait_timeout = timedelta(seconds=live.init_timeout_s)
            self.max_subscriptions_per_connection = live.max_subscriptions
            self.graphql_transport_ws_handler_class = TransportWSHandler
            self.graphql_ws_handler_class = LegacyWSHandler

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Any:
        if self.live is not None and isinstance(request, WebSocket):
            return WSConnection(principal_of(request.scope), correlation_id_of(request.scope))
        return self._context(request)

    def _context(self, request: Request | WebSocket) -> Any:
        context = self._make_context(correlation_id_of(request.scope), principal_of(request.scope))
        if isinstance(context, Context):  # tests may mount schemas with contexts of their own
            key = request.headers.get("idempotency-key")
            context.idempotency_key = key.strip() if key and key.strip() else None
        return context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if self._sse is not None and wants_event_stream(_header(scope, b"accept")):
            await self._sse(scope, receive, send)
            return
        response = await self.respond(Request(scope, receive))
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        cid = correlation_id_of(request.scope)
        media_type = JSON
        try:
            if request.method not in _ALLOWED:
                raise RequestRejected(
                    405,
                    f"{request.method} is not supported: use GET or POST",
                    headers={"Allow": "GET, POST"},
                )
            accept = request.headers.get("accept")
            if self._wants_graphiql(request, accept):
                assert self._graphiql is not None
                return self._graphiql.render(request)
            negotiated = negotiate(accept)
            if negotiated is None:
                raise RequestRejected(
                    406, f"Not acceptable: answer with {GRAPHQL_RESPONSE_JSON} or {JSON}"
                )
            media_type = negotiated
            if request.method == "GET":
                params = params_from_query_string(request.query_params)
            else:
                body = await bounded_body(request)
                params = params_from_body(request.headers.get("content-type"), body)
            return await self._execute(request, params, media_type, cid)
        except RequestRejected as rejected:
            return _response(
                {"errors": [{"message": rejected.message}]},
                rejected.status,
                media_type,
                rejected.headers,
            )
        except Exception:
            logger.exception("GraphQL request failed (correlation id %s)", cid)
            return _response({"errors": [internal_error(cid)]}, 500, media_type)

    def _wants_graphiql(self, request: Request, accept: str | None) -> bool:
        return (
            self._graphiql is not None
            and request.method == "GET"
            and "query" not in request.query_params
            and accepts_html(accept)
        )

    async def _execute(
        self, request: Request, params: GraphQLParams, media_type: str, cid: str
    ) -> Response:
        # Select the operation before building a context: a refused request
        # costs no loaders, and strawberry would run the first of several
        # operations when none is named, which the GraphQL spec forbids.
        operations = operations_of(params.query)  # None: let the schema report the syntax error
        if operations is not None:
            chosen = [kind for name, kind in operations if params.operation_name in (None, name)]
            if params.operation_name is None and len(chosen) > 1:
                return _request_error("Several operations: name one in operationName", media_type)
            if not chosen:
                name = params.operation_name
                missing = f"Unknown operation named {name!r}" if name else "No operation to run"
                return _request_error(missing, media_type)
            _check_method(request.method, chosen[0])
        try:
            result = await self.schema.execute(
                params.query,
                variable_values=params.variables,
                context_value=self._context(request),
                root_value=None,
                operation_name=params.operation_name,
                allowed_operation_types=_ALLOWED[request.method],
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as exc:
            _check_method(request.method, exc.operation_type)
            raise
        except CannotGetOperationTypeError as exc:
            return _request_error(exc.as_http_error_reason(), media_type)
        except MissingQueryError:
            raise RequestRejected(
                400, "Missing `query`: the request has no GraphQL document"
            ) from None
        return self._result_response(result, media_type, cid)

    def _result_response(self, result: ExecutionResult, media_type: str, cid: str) -> Response:
        errors, masked = format_errors(result.errors or [], cid)
        # A request error (the operation never ran) has no `data` entry; errors
        # raised while executing always carry the path of their field.
        request_error = isinstance(result, PreExecutionError) or (
            result.data is None
            and bool(result.errors)
            and all(e.path is None for e in result.errors or [])
        )
        body: dict[str, Any] = {} if request_error else {"data": result.data}
        if errors:
            body["errors"] = errors
        if result.extensions:
            body["extensions"] = result.extensions
        status = 200
        if request_error and masked:
            status = 500
        elif request_error and media_type == GRAPHQL_RESPONSE_JSON:
            status = 400
        return _response(body, status, media_type)


def _check_method(method: str, kind: OperationType) -> None:
    if kind in _ALLOWED[method]:
        return
    if kind is OperationType.MUTATION:
        raise RequestRejected(
            405, "Mutations are not allowed over GET: use POST", headers={"Allow": "POST"}
        )
    raise RequestRejected(
        400,
        "Subscriptions are not served as plain JSON: use a WebSocket at /graphql, or ask "
        "for Server-Sent Events (Accept: text/event-stream)",
    )


Operations = tuple[tuple[str | None, OperationType], ...]


def operations_of(query: str) -> Operations | None:
    """(name, kind) of each operation in the document; None when it does not parse."""
    return _cached_operations(query) if len(query) <= 16_384 else _parse_operations(query)


@functools.lru_cache(maxsize=256)
def _cached_operations(query: str) -> Operations | None:
    return _parse_operations(query)


def _parse_operations(query: str) -> Operations | None:
    try:
        document = parse(query)
    except GraphQLError:
        return None
    except RecursionError:
        raise RequestRejected(400, "The query is nested too deeply to parse") from None
    return tuple(
        (d.name.value if d.name else None, OperationType(d.operation.value))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )


def _request_error(message: str, media_type: str) -> Response:
    """A GraphQL request error found before execution (no `data` entry)."""
    status = 400 if media_type == GRAPHQL_RESPONSE_JSON else 200
    return _response({"errors": [{"message": message}]}, status, media_type)


def _response(
    body: dict[str, Any],
    status: int,
    media_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    return JSONResponse(
        body, status_code=status, headers=headers, media_type=f"{media_type}; charset=utf-8"
    )


MAX_BODY_BYTES = 1_000_000  # a GraphQL document and its variables; more is not a query


async def bounded_body(request: Request) -> bytes:
    """The request body, refused with 413 once it passes MAX_BODY_BYTES."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestRejected(413, f"Request body over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RequestRejected(413, f"Request body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> str | None:
    found = [v for k, v in scope["headers"] if k == name]
    return b",".join(found).decode("latin-1") if found else None
