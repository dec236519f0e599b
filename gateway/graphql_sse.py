"""GraphQL over Server-Sent Events, distinct-connections mode.

https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md: one
operation per HTTP request, GET (parameters in the query string) or POST (a
JSON body), whose Accept header names ``text/event-stream``. The caller is
the request's Authorization header, as for any HTTP request.

A request that cannot run is answered before anything is streamed, as plain
HTTP with a GraphQL-shaped JSON body: 400 (malformed request, syntax,
validation, or a field that refused to start: an unknown event type, a bad or
expired cursor), 401 (a subscription without a bearer token), 403
(FORBIDDEN), 404 (NOT_FOUND), 405 (a mutation over GET), 415, 429 (the caller
already holds EG_MAX_CONNECTIONS_PER_PRINCIPAL connections, WebSocket and SSE
together). Otherwise each result is an ``event: next`` whose ``data:`` is the
ExecutionResult as JSON, and ``event: complete`` ends the stream; a comment
line every `KEEPALIVE_S` keeps proxies from closing a quiet one. When the
client disconnects the operation is stopped at once, which releases its
registration with the event hub. Like WebSocket connections, a stream has no
request time budget: it lives as long as the client wants, and its token
allows: at the token's `exp` the subscription (resolvers.subscriptions_feeds)
ends with a last ``next`` carrying a TOKEN_EXPIRED error and the cursor to
resume from, then ``complete``.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from adapters.http import request_deadline
from domain.governance import Principal
from gateway.auth import principal_of
from gateway.error_masking import INTERNAL_CODE, format_errors
from gateway.graphql_http import bounded_body, correlation_id_of, operations_of
from gateway.graphql_request import (
    GraphQLParams,
    RequestRejected,
    params_from_body,
    params_from_query_string,
)
from gateway.graphql_ws import LiveTransport

__all__ = ["EVENT_STREAM", "KEEPALIVE_S", "SSEEndpoint"]

EVENT_STREAM = "text/event-stream"
KEEPALIVE_S = 15.0
_ALLOWED = {
    "GET": (OperationType.QUERY, OperationType.SUBSCRIPTION),
    "POST": (OperationType.QUERY, OperationType.MUTATION, OperationType.SUBSCRIPTION),
}
_STATUS = {"FORBIDDEN": 403, "NOT_FOUND": 404, INTERNAL_CODE: 500}
_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]


def _kind(method: str, params: GraphQLParams) -> OperationType | None:
    """The kind of the operation to run; None when the document does not parse (the schema
    reports the syntax error)."""
    operations = operations_of(params.query)
    if operations is None:
        return None
    chosen = [kind for name, kind in operations if params.operation_name in (None, name)]
    if params.operation_name is None and len(chosen) > 1:
        raise RequestRejected(400, "Several operations: name one in operationName")
    if not chosen:
        name = params.operation_name
        raise RequestRejected(400, f"Unknown operation named {name!r}" if name else "No operation")
    if chosen[0] not in _ALLOWED[method]:
        raise RequestRejected(
            405, "Mutations are not allowed over GET: use POST", headers={"Allow": "POST"}
        )
    return chosen[0]


def _errors_response(status: int, errors: list[dict[str, Any]], **headers: str) -> JSONResponse:
    return JSONResponse(
        {"errors": errors},
        status_code=status,
        headers=headers or None,
        media_type="application/json; charset=utf-8",
    )


def _body(result: ExecutionResult, cid: str) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = format_errors(result.errors, cid)[0]
    if result.extensions:
        body["extensions"] = result.extensions
    return body


class SSEEndpoint:
    """Serves one operation as an event stream (an ASGI app for the request)."""

    def __init__(self, schema: BaseSchema, live: LiveTransport) -> None:
        self.schema = schema
        self.live = live

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        cid, principal = correlation_id_of(scope), principal_of(scope)
        try:
            if request.method not in _ALLOWED:
                raise RequestRejected(405, "Use GET or POST", headers={"Allow": "GET, POST"})
            if request.method == "GET":
                params = params_from_query_string(request.query_params)
            else:
                body = await bounded_body(request)
                params = params_from_body(request.headers.get("content-type"), body)
            kind = _kind(request.method, params)
        except RequestRejected as rejected:
            response = _errors_response(
                rejected.status, [{"message": rejected.message}], **rejected.headers
            )
            await response(scope, receive, send)
            return
        if kind is OperationType.SUBSCRIPTION and principal is None:
            message = "Subscriptions need a bearer token in the Authorization header"
            challenge = 'Bearer realm="engagement-gateway"'
            unauthenticated = [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]
            response = _errors_response(401, unauthenticated, **{"WWW-Authenticate": challenge})
            await response(scope, receive, send)
            return
        subject = principal.subject if principal is not None else None
        if subject is not None and not self.live.caps.acquire(subject):
            too_many = {"code": "TOO_MANY_CONNECTIONS"}
            refusal = [{"message": self.live.caps.refusal(subject), "extensions": too_many}]
            await _errors_response(429, refusal)(scope, receive, send)
            return
        token = request_deadline.set(None)  # a stream has no time budget; set before any task
        try:
            await self._stream(scope, receive, send, params, principal, cid)
        finally:
            request_deadline.reset(token)
            if subject is not None:
                self.live.caps.release(subject)

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        params: GraphQLParams,
        principal: Principal | None,
        cid: str,
    ) -> None:
        context = self.live.make_context(cid, principal)
        results = await self.schema.stream(
            params.query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
            operation_extensions=params.extensions,
            allowed_operation_types=_ALLOWED[str(scope["method"])],
        )
        gone = asyncio.create_task(_disconnect(receive))
        streaming = asyncio.create_task(context.streaming.wait())
        pending: asyncio.Future[Any] = asyncio.ensure_future(results.__anext__())
        try:
            # Wait for the first result or for the subscription to be live: a request error
            # (validation, a refused filter or cursor) comes first, and is plain HTTP.
            await asyncio.wait({pending, streaming, gone}, return_when=asyncio.FIRST_COMPLETED)
            if gone.done():
                return
            refused = _refusal(pending)
            if refused is not None:
                errors = format_errors(refused, cid)[0]
                code = (errors[0].get("extensions") or {}).get("code") if errors else None
                await _errors_response(_STATUS.get(str(code), 400), errors)(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            while True:
                done, _ = await asyncio.wait(
                    {pending, gone}, timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED
                )
                if gone in done:
                    return
                if not done:
                    await _chunk(send, ": keepalive\n\n")
                    continue
                try:
                    result = pending.result()
                except StopAsyncIteration:
                    await _chunk(send, "event: complete\ndata:\n\n", more=False)
                    return
                data = json.dumps(_body(result, cid), separators=(",", ":"))
                await _chunk(send, f"event: next\ndata: {data}\n\n")
                pending = asyncio.ensure_future(results.__anext__())
        except OSError:  # the client went away while we were sending
            return
        finally:
            for task in (pending, streaming, gone):
                task.cancel()
            await asyncio.wait({pending, streaming, gone})
            with suppress(RuntimeError, StopAsyncIteration):
                await results.aclose()


def _refusal(first: asyncio.Future[Any]) -> list[GraphQLError] | None:
    """The errors of a request that never started: a pre-execution result, or a GraphQL
    error a parsing extension (ParserCache) raised instead of returning it."""
    if not first.done() or first.cancelled():
        return None
    error = first.exception()
    if isinstance(error, GraphQLError):
        return [error]
    if error is None and isinstance(first.result(), PreExecutionError):
        return list(first.result().errors or [])
    return None


async def _chunk(send: Send, text: str, *, more: bool = True) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": more})


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
