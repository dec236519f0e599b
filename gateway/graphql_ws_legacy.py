"""The legacy graphql-ws protocol (subscriptions-transport-ws), with the gateway's rules.

Older clients (Apollo's subscriptions-transport-ws) still speak it. The rules
are graphql-transport-ws's (gateway.graphql_ws): the caller from the
connection_init payload or the upgrade header, a refused token or too many
connections answered with ``connection_error`` and a 4403 close, a context
per operation, the cap on running operations, masked unexpected errors, a 4403
close (TOKEN_EXPIRED_REASON) when the caller's token expires. The
protocol has no close codes of its own for the rest: a message that is not a
JSON object, or a ``start`` without a query, closes with 4400; a ``start``
before the ack with 4401.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from contextlib import suppress
from typing import Any, cast

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    OperationMessage,
    StartMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from adapters.http import correlation_id
from gateway.auth import AuthError
from gateway.graphql_ws import (
    WS_CLOSE_FORBIDDEN,
    WSRules,
    close_reason,
    masked,
    subscribe_problem,
    too_many,
)

__all__ = ["LegacyWSHandler"]


class LegacyWSHandler(WSRules, BaseGraphQLWSHandler[Any, None]):
    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            self.stop_watching()
            self.release()

    async def handle_message(self, message: OperationMessage) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.websocket.close(4400, "A message must be a JSON object with a type")
            return
        await super().handle_message(message)

    async def _refuse(self, reason: str) -> None:
        error = cast(Any, {"type": "connection_error", "payload": {"message": reason}})
        await self.send_message(error)
        await self.websocket.close(WS_CLOSE_FORBIDDEN, close_reason(reason))

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(4400, "Invalid connection init payload")
            return
        try:
            principal = self.live.caller(payload, getattr(self.context, "principal", None))
        except AuthError as refused:
            await self._refuse(refused.description)
            return
        if principal is not None and self.counted != principal.subject:
            if not self.live.caps.acquire(principal.subject):
                await self._refuse(self.live.caps.refusal(principal.subject))
                return
            self.release()
            self.counted = principal.subject
        self.principal = principal
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        self.watch_expiry()  # a new connection_init may name a new caller, so a new expiry
        if self.keep_alive and self.keep_alive_task is None:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())

    async def handle_start(self, message: StartMessage) -> None:
        if not self.connection_acknowledged:
            await self.websocket.close(4401, "Unauthorized")
            return
        problem = subscribe_problem(cast(Mapping[str, Any], message))
        if problem is not None:
            await self.websocket.close(4400, close_reason(problem.replace("subscribe", "start")))
            return
        operation_id = message["id"]
        if operation_id in self.tasks:  # the protocol's rule: a start replaces its namesake
            await self.cleanup_operation(operation_id)
        limit = self.live.max_subscriptions
        if len(self.tasks) >= limit:
            error = cast(Any, {"type": "error", "id": operation_id, "payload": too_many(limit)})
            await self.send_message(error)
            return
        payload = message["payload"]
        result_handler = self.handle_async_results(
            operation_id, payload["query"], payload.get("operationName"), payload.get("variables")
        )
        self.tasks[operation_id] = asyncio.create_task(result_handler)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        """strawberry 0.341's, on a context of the operation's own, with masked errors."""
        cid = uuid.uuid4().hex
        correlation_id.set(cid)  # this task's vendor calls carry the operation's ID
        try:
            result_source = await self.schema.subscribe(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.live.make_context(cid, self.principal),
                root_value=self.root_value,
            )
            self.subscriptions[operation_id] = result_source
            first = True
            try:
                async for result in result_source:
                    if first and isinstance(result, PreExecutionError):
                        await self._send_error(result.errors or [], operation_id, cid)
                        return
                    await self._send_data(result, operation_id, cid)
                    first = False
            except GraphQLError as error:  # a parsing extension (ParserCache) raised, unwrapped
                await self._send_error([error], operation_id, cid)
                return
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            with suppress(Exception):  # stopped by the client, or the connection is gone
                await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

    async def _send_error(self, errors: list[GraphQLError], operation_id: str, cid: str) -> None:
        error = {"type": "error", "id": operation_id, "payload": masked(errors, cid)[0]}
        await self.send_message(cast(Any, error))

    async def _send_data(self, result: ExecutionResult, operation_id: str, cid: str) -> None:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = masked(result.errors, cid)
        if result.extensions:
            payload["extensions"] = result.extensions
        await self.send_message(cast(Any, {"type": "data", "id": operation_id, "payload": payload}))
