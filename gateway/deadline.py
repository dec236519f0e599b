"""Pure ASGI middleware: give every HTTP request a time budget.

The deadline (now + budget, on `time.monotonic`) is set in
`adapters.http.request_deadline` for the request's duration, so every vendor
call made on the request's behalf waits at most the time left and no retry
outlives the request. WebSocket connections are long-lived and get none.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.http import request_deadline

__all__ = ["RequestDeadlineMiddleware"]


class RequestDeadlineMiddleware:
    def __init__(
        self, app: ASGIApp, *, budget_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if budget_s <= 0:
            raise ValueError(f"budget_s must be positive, not {budget_s}")
        self.app = app
        self.budget_s = budget_s
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = self.clock() + self.budget_s
        outer = request_deadline.get()
        token = request_deadline.set(deadline if outer is None else min(outer, deadline))
        try:
            await self.app(scope, receive, send)
        finally:
            request_deadline.reset(token)
