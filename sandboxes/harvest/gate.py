"""Harvest's front door: the three required headers and the request rate limit.

Pure ASGI, inside `FaultMiddleware` (so rejected calls are still counted) and
around the vendor routes; the control plane (``/__sandbox``) passes through.

- No ``User-Agent`` → 400; unknown bearer token → 401 ``invalid_token``;
  missing or foreign ``Harvest-Account-Id`` → 403 ``forbidden`` (unverified).
  As on Harvest, ``access_token`` and ``account_id`` may come as query
  parameters instead.
- 100 requests per 15 s per token+account (sliding window on a monotonic
  clock) → 429 with ``Retry-After`` = whole seconds until the window frees.
- The Reports API (``/v2/reports/...``) has its own, stricter limit: 100
  requests per 15 min per token+account, counted in a window of its own
  (unverified: whether a report call also counts against the 15 s limit).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from sandboxes.control import CONTROL_PREFIX
from sandboxes.harvest.errors import (
    HarvestError,
    forbidden,
    invalid_token,
    message,
    too_many_requests,
)
from sandboxes.harvest.reports import REPORTS_PREFIX

__all__ = ["HarvestGate", "RateLimiter"]


class RateLimiter:
    """At most `limit` requests per `window_s` seconds per key (sliding window)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def hit(self, key: tuple[str, str]) -> float | None:
        """Record a request; return the seconds to wait instead if over the limit."""
        now = self.clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.window_s - now
        hits.append(now)
        return None

    def reset(self) -> None:
        self._hits.clear()


class HarvestGate:
    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: Mapping[str, frozenset[str]],
        limiter: RateLimiter | None,
        report_limiter: RateLimiter | None = None,
    ) -> None:
        self.app = app
        self.tokens = tokens  # token → account ids it may use
        self.limiter = limiter
        self.report_limiter = report_limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        try:
            self._admit(scope)
        except HarvestError as refusal:
            await refusal.response()(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _admit(self, scope: Scope) -> None:
        headers = Headers(scope=scope)
        params = QueryParams(scope.get("query_string", b""))
        if not headers.get("user-agent", "").strip():
            raise message(400, "Missing User-Agent header")
        authorization = headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        token = credential.strip() if scheme.lower() == "bearer" else params.get("access_token")
        if not token or token not in self.tokens:
            raise invalid_token()
        account = headers.get("harvest-account-id") or params.get("account_id")
        if not account or account not in self.tokens[token]:
            raise forbidden(account)
        reports = scope["path"].startswith(REPORTS_PREFIX)
        limiter = self.report_limiter if reports else self.limiter
        if limiter is not None:
            wait = limiter.hit((token, account))
            if wait is not None:
                raise too_many_requests(max(1, math.ceil(wait)))
