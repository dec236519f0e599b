"""Pure ASGI middleware: accept or mint an X-Correlation-ID, echo it, pass it on.

The ID is set in `adapters.http.correlation_id` for the request's duration, so
every vendor call made on the request's behalf carries it.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http import CORRELATION_HEADER, correlation_id

__all__ = ["CorrelationIdMiddleware"]

_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class CorrelationIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(CORRELATION_HEADER.lower().encode(), b"")
        value = incoming.decode("latin-1")
        cid = value if _ACCEPTABLE.match(value) else uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = cid
        token = correlation_id.set(cid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = cid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
