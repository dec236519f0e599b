"""GraphQL over WebSocket: graphql-transport-ws on strawberry's handler, with our rules.

What strawberry's handler does is kept (its close codes: 4400 malformed
message, 4401 subscribe before the ack, 4408 no connection_init within
EG_WS_INIT_TIMEOUT_S, 4409 a duplicate operation id, 4429 a second
connection_init); on top of it:

- the caller: the bearer token in the connection_init payload
  (``{"authorization": "Bearer <jwt>"}``; browsers cannot set headers), else
  the upgrade request's Authorization header. A bad token closes with 4403 and
  the reason; so does a caller who already holds EG_MAX_CONNECTIONS_PER_PRINCIPAL
  connections (WebSocket and SSE together, per process);
- the connection ends when the caller's token expires: at its `exp`, one timer
  per connection closes it with 4403 and TOKEN_EXPIRED_REASON (its
  subscriptions end with TOKEN_EXPIRED first when they get there before it);
- each operation runs on a context of its own (fresh loaders, its own
  correlation ID) with the connection's caller;
- beyond EG_MAX_SUBSCRIPTIONS_PER_CONNECTION running operations, a subscribe
  is answered with an `error` message (TOO_MANY_SUBSCRIPTIONS) and the
  connection stays;
- unexpected errors are masked as over HTTP (gateway.error_masking), under
  the operation's correlation ID.

The legacy graphql-ws protocol gets the same rules (gateway.graphql_ws_legacy).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from adapters.http import correlation_id
from domain.governance import Principal
from gateway.auth import AuthError, TokenAuthority
from gateway.error_masking import format_errors

__all__ = [
    "TOKEN_EXPIRED_REASON",
    "ConnectionCaps",
    "LiveTransport",
    "TransportWSHandler",
    "WSConnection",
    "WSRules",
    "close_reason",
    "masked",
    "subscribe_problem",
    "too_many",
]

WS_CLOSE_FORBIDDEN = 4403
TOKEN_EXPIRED_REASON = "Forbidden: the token expired; reconnect with a fresh one"


def masked(errors: list[GraphQLError], cid: str) -> list[dict[str, Any]]:
    return format_errors(errors, cid)[0]


def too_many(limit: int) -> dict[str, Any]:
    return {
        "message": f"Too many subscriptions on this connection: at most {limit} run at once "
        "(EG_MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first",
        "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": limit},
    }


class ConnectionCaps:
    """Live connections (WebSocket and SSE) per caller, in this process."""

    def __init__(self, per_principal: int) -> None:
        self.per_principal = per_principal
        self._open: dict[str, int] = {}

    def acquire(self, subject: str) -> bool:
        held = self._open.get(subject, 0)
        if held >= self.per_principal:
            return False
        self._open[subject] = held + 1
        return True

    def release(self, subject: str) -> None:
        held = self._open.get(subject, 0) - 1
        if held > 0:
            self._open[subject] = held
        else:
            self._open.pop(subject, None)

    def held(self, subject: str) -> int:
        return self._open.get(subject, 0)

    def refusal(self, subject: str) -> str:
        return (
            f"Too many connections for {subject[:40]}: at most {self.per_principal} "
            "(EG_MAX_CONNECTIONS_PER_PRINCIPAL)"
        )


@dataclass(frozen=True, slots=True)
class LiveTransport:
    """What the WebSocket and SSE transports share: auth, caps, per-operation contexts."""

    authority: TokenAuthority
    caps: ConnectionCaps
    make_context: Callable[[str, Principal | None], Any]  # (correlation id, caller)
    max_subscriptions: int
    init_timeout_s: float

    def caller(self, payload: Mapping[str, object], upgraded: Principal | None) -> Principal | None:
        """The caller a connection_init payload names, else the upgrade's; AuthError."""
        value = payload.get("authorization", payload.get("Authorization"))
        if value is None:
            return upgraded
        if not isinstance(value, str):
            raise AuthError('"authorization" must be a string: "Bearer <token>"')
        return self.authority.authenticate(value)


@dataclass(slots=True)
class WSConnection:
    """A WebSocket connection's own context: the caller of its upgrade request. It runs
    nothing itself (each operation gets a full context of its own), so it holds no loaders."""

    principal: Principal | None
    correlation_id: str


def close_reason(text: str) -> str:
    """A close reason: printable ASCII, at most 123 bytes."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:123]


def subscribe_problem(message: Mapping[str, Any]) -> str | None:
    payload = message.get("payload")
    if not isinstance(message.get("id"), str) or not message["id"]:
        return "Invalid subscribe message: `id` must be a non-empty string"
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return "Invalid subscribe message: `payload.query` must be a string"
    for name in ("variables", "extensions"):
        if not isinstance(payload.get(name) or {}, dict):
            return f"Invalid subscribe message: `payload.{name}` must be an object"
    if not isinstance(payload.get("operationName") or "", str):
        return "Invalid subscribe message: `payload.operationName` must be a string"
    return None


class _MaskedOperation(Operation[Any, None]):
    __slots__ = ("correlation_id",)
    correlation_id: str

    async def send_initial_errors(self, errors: list[GraphQLError]) -> None:
        payload = cast(Any, masked(errors, self.correlation_id))
        await self.send_operation_message({"id": self.id, "type": "error", "payload": payload})

    async def send_next(self, execution_result: ExecutionResult) -> None:
        payload: dict[str, Any] = {"data": execution_result.data}
        if execution_result.errors:
            payload["errors"] = masked(execution_result.errors, self.correlation_id)
        if execution_result.extensions:
            payload["extensions"] = execution_result.extensions
        await self.send_operation_message(
            cast(Message, {"id": self.id, "type": "next", "payload": payload})
        )


class WSRules:
    """What both WebSocket handlers hold: the gateway's rules (set on the view by
    GraphQLView), the connection's caller, and the connection it counts against."""

    view: Any
    websocket: Any
    principal: Principal | None = None
    counted: str | None = None  # the subject this connection counts against
    expiry: asyncio.Task[None] | None = None  # closes the connection when its token expires

    @property
    def live(self) -> LiveTransport:
        live: LiveTransport = getattr(self.view, "live")  # noqa: B009 - set by GraphQLView
        return live

    def release(self) -> None:
        """Give back the caller's connection (the connection ended, or changed caller)."""
        if self.counted is not None:
            self.live.caps.release(self.counted)
            self.counted = None

    def watch_expiry(self) -> None:
        """Close the connection when its caller's token expires (anonymous: never)."""
        self.stop_watching()
        expires_at = self.principal.expires_at if self.principal is not None else None
        if expires_at is not None:
            self.expiry = asyncio.create_task(self._close_at(expires_at))

    def stop_watching(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None

    async def _close_at(self, expires_at: datetime) -> None:
        await asyncio.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()))
        with suppress(Exception):  # the connection is already going
            await self.websocket.close(WS_CLOSE_FORBIDDEN, TOKEN_EXPIRED_REASON)


class TransportWSHandler(WSRules, BaseGraphQLTransportWSHandler[Any, None]):
    """graphql-transport-ws with the gateway's caller, caps, contexts and masking."""

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            self.stop_watching()
            self.release()

    async def handle_message(self, message: Message) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.handle_invalid_message("A message must be a JSON object with a type")
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.websocket.close(4400, "Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(4429, "Too many initialisation requests")
            return
        self.connection_init_received = True
        try:
            principal = self.live.caller(payload, getattr(self.context, "principal", None))
        except AuthError as refused:
            await self.websocket.close(WS_CLOSE_FORBIDDEN, close_reason(refused.description))
            return
        if principal is not None:
            if not self.live.caps.acquire(principal.subject):
                refusal = self.live.caps.refusal(principal.subject)
                await self.websocket.close(WS_CLOSE_FORBIDDEN, close_reason(refusal))
                return
            self.counted = principal.subject
        self.principal = principal
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        self.watch_expiry()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await self.websocket.close(4401, "Unauthorized")
            return
        problem = subscribe_problem(cast(Mapping[str, Any], message))
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message["id"] in self.operations:
            await self.websocket.close(4409, close_reason(f"Subscriber for {message['id']} exists"))
            return
        limit = self.live.max_subscriptions
        if len(self.operations) >= limit:
            error = cast(Any, [too_many(limit)])
            await self.send_message({"id": message["id"], "type": "error", "payload": error})
            return
        payload = message["payload"]
        operation = _MaskedOperation(
            self,
            message["id"],
            payload["query"],
            payload.get("variables"),
            payload.get("operationName"),
        )
        operation.correlation_id = uuid.uuid4().hex
        operation.task = asyncio.create_task(self.run_operation(operation))
        operation.task.add_done_callback(self._task_done)
        self.operations[message["id"]] = operation

    async def run_operation(self, operation: Operation[Any, None]) -> None:
        """strawberry 0.341's `run_operation`, on a context of the operation's own."""
        cid = cast(_MaskedOperation, operation).correlation_id
        correlation_id.set(cid)  # this task's vendor calls carry the operation's ID
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.live.make_context(cid, self.principal),
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            try:
                async with aclosing(result_source):
                    await self._send_result_stream(operation, result_source)
            except GraphQLError as error:  # a parsing extension (ParserCache) raised, unwrapped
                refused = PreExecutionError(data=None, errors=[error])
                await self._handle_pre_execution_error(operation, refused)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
