"""Concurrency governance: NetSuite caps in-flight requests per account, not request rate.

Pure ASGI middleware placed outside the fault middleware (so injected latency
counts as time in flight). Over the cap the request is refused with 429
problem JSON, ``o:errorCode`` CONCURRENCY_LIMIT_EXCEEDED (unverified), and
no ``Retry-After``. Refused requests are still counted by the control plane.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from sandboxes.control import CONTROL_PREFIX, ControlPlane
from sandboxes.netsuite.errors import throttled_response

__all__ = ["DEFAULT_CONCURRENCY_LIMIT", "ConcurrencyGovernor"]

DEFAULT_CONCURRENCY_LIMIT = 15


class ConcurrencyGovernor:
    def __init__(self, app: ASGIApp, *, control: ControlPlane, limit: int) -> None:
        self.app = app
        self.control = control
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.control.count(scope)
            await throttled_response()(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
