"""Outbound webhooks a sandbox sends after a committed write: signed, queued, retried.

Real Salesforce and NetSuite push changes only through code the customer
deploys in the org/account (an Apex trigger or Flow callout relaying Change
Data Capture events; a SuiteScript User Event script calling ``N/https``).
That code is what this module stands in for, shared by both sandboxes; each
sandbox decides *what* it sends (see ``sandboxes/salesforce/cdc.py`` and
``sandboxes/netsuite/userevents.py``). Harvest and Kantata have no push.

Wire format of every delivery (a JSON body, ``POST`` to the registered URL)::

    X-EG-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>[,v1=...]
    X-EG-Delivery:  <id>          (the same id on every retry of one notice)

One ``v1`` per registered secret, so a receiver keeps verifying while the
secret is rotated. Each retry is signed afresh (new ``t``).

`WebhookSender.send` never blocks or fails the vendor write that calls it:
it queues the encoded body (bounded; the oldest notice is dropped and logged
when full) and a background task delivers the queue in order, retrying
connection errors, timeouts, 408, 429 and 5xx with exponential backoff; other
4xx answers are final (the receiver refused it: retrying cannot help).

Control plane (no credentials, under ``/__sandbox/`` like faults):

- ``POST /__sandbox/webhooks`` ``{"url", "secret" | "secrets": [..], "attempts"?,
  "backoff_ms"?, "timeout_ms"?}`` registers the target (replacing any other)
- ``GET /__sandbox/webhooks`` → ``{"target": {url, secrets: <count>, ...} | null,
  "pending": n, "deliveries": [{id, status, attempts, http_status, error}]}``
  (newest last; status ``delivered`` | ``failed`` | ``dropped``)
- ``DELETE /__sandbox/webhooks`` stops sending (queued notices are dropped)

A registration survives ``POST /__sandbox/reset`` (it is the org's deployed
code, not its data).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "WebhookSender",
    "WebhookTarget",
    "sign",
    "webhook_routes",
]

SIGNATURE_HEADER = "X-EG-Signature"
DELIVERY_HEADER = "X-EG-Delivery"
_CONTROL_PATH = "/__sandbox/webhooks"
_MAX_SECRETS = 5
_RETRYABLE = frozenset({408, 425, 429})
_LIMITS = (("attempts", 1, 10), ("backoff_ms", 0, 60_000), ("timeout_ms", 1, 60_000))


def sign(secrets: Sequence[str], body: bytes, timestamp: int) -> str:
    """The ``X-EG-Signature`` value: ``t=<timestamp>`` then one ``v1=`` per secret."""
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"]
    parts += [
        "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets
    ]
    return ",".join(parts)


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    url: str
    secrets: tuple[str, ...]
    attempts: int = 4
    backoff_s: float = 0.5  # before the 2nd attempt; doubles each time
    timeout_s: float = 5.0

    def describe(self) -> dict[str, Any]:
        """What the control plane shows (never the secrets themselves)."""
        return {
            "url": self.url,
            "secrets": len(self.secrets),
            "attempts": self.attempts,
            "backoff_ms": round(self.backoff_s * 1000),
            "timeout_ms": round(self.timeout_s * 1000),
        }


@dataclass(frozen=True, slots=True)
class _Notice:
    id: str
    target: WebhookTarget
    body: bytes


class WebhookSender:
    """One sandbox's outgoing webhooks: a bounded in-order queue and one delivery task."""

    def __init__(
        self,
        *,
        user_agent: str,
        clock: Callable[[], float] = time.time,
        max_pending: int = 1000,
        log_size: int = 200,
    ) -> None:
        self.target: WebhookTarget | None = None
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._user_agent = user_agent
        self._clock = clock
        self._queue: deque[_Notice] = deque()
        self._max_pending = max_pending
        self._worker: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.target is not None

    @property
    def pending(self) -> int:
        return len(self._queue)

    def register(self, target: WebhookTarget | None) -> None:
        """Send to `target` from now on; None stops sending and drops what is queued."""
        self.target = target
        if target is None:
            while self._queue:
                self._log(self._queue.popleft(), "dropped", 0, None, "webhook unregistered")

    def send(self, body: bytes) -> str | None:
        """Queue one notice for the registered target; its delivery id (None: nobody listens)."""
        target = self.target
        if target is None:
            return None
        notice = _Notice(uuid.uuid4().hex, target, body)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a write outside any request: nothing can deliver it
            self._log(notice, "dropped", 0, None, "no running event loop")
            return None
        if len(self._queue) >= self._max_pending:
            self._log(self._queue.popleft(), "dropped", 0, None, "queue full")
        self._queue.append(notice)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return notice.id

    async def aclose(self) -> None:
        """Stop delivering (tests, shutdown); what is still queued stays queued."""
        worker, self._worker = self._worker, None
        if worker is not None and not worker.done():
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _drain(self) -> None:
        # The outer check runs with no await before the task ends, so a notice queued
        # while the client closes is never stranded (send() sees this task still running).
        while self._queue:
            async with httpx.AsyncClient(trust_env=False) as client:
                while self._queue:
                    notice = self._queue.popleft()
                    try:
                        await self._deliver(client, notice)
                    except Exception as exc:  # never let one notice stop the queue
                        self._log(notice, "failed", 0, None, repr(exc))

    async def _deliver(self, client: httpx.AsyncClient, notice: _Notice) -> None:
        target = notice.target
        status: int | None = None
        error: str | None = None
        for attempt in range(1, target.attempts + 1):
            timestamp = int(self._clock())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": self._user_agent,
                SIGNATURE_HEADER: sign(target.secrets, notice.body, timestamp),
                DELIVERY_HEADER: notice.id,
            }
            try:
                response = await client.post(
                    target.url, content=notice.body, headers=headers, timeout=target.timeout_s
                )
            except httpx.HTTPError as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            else:
                status, error = response.status_code, None
                if status < 300:
                    self._log(notice, "delivered", attempt, status, None)
                    return
                if status < 500 and status not in _RETRYABLE:
                    self._log(notice, "failed", attempt, status, response.text[:200])
                    return
            if attempt < target.attempts:
                await asyncio.sleep(target.backoff_s * 2 ** (attempt - 1))
        self._log(notice, "failed", target.attempts, status, error)

    def _log(
        self,
        notice: _Notice,
        status: str,
        attempts: int,
        http_status: int | None,
        error: str | None,
    ) -> None:
        self.deliveries.append(
            {
                "id": notice.id,
                "url": notice.target.url,
                "status": status,
                "attempts": attempts,
                "http_status": http_status,
                "error": error,
            }
        )


def _parse_target(body: Any) -> WebhookTarget | str:
    """A target from the control call's JSON, or the reason it is refused."""
    if not isinstance(body, dict):
        return "expected a JSON object"
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return "url must be an absolute http(s) URL"
    raw = body.get("secrets", body.get("secret"))
    secrets = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(secrets, list)
        or not 1 <= len(secrets) <= _MAX_SECRETS
        or not all(isinstance(s, str) and s for s in secrets)
    ):
        return f"secret must be a non-empty string, or secrets a list of 1-{_MAX_SECRETS} of them"
    numbers: dict[str, float] = {}
    for name, low, high in _LIMITS:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} must be a number from {low} to {high}"
        if not low <= value <= high:
            return f"{name} must be a number from {low} to {high}"
        numbers[name] = value
    return WebhookTarget(
        url=url,
        secrets=tuple(secrets),
        attempts=int(numbers.get("attempts", 4)),
        backoff_s=numbers.get("backoff_ms", 500) / 1000,
        timeout_s=numbers.get("timeout_ms", 5000) / 1000,
    )


def webhook_routes(sender: WebhookSender) -> list[Route]:
    """The ``/__sandbox/webhooks`` control routes for one sandbox's sender."""

    def state() -> JSONResponse:
        target = sender.target
        return JSONResponse(
            {
                "target": target.describe() if target is not None else None,
                "pending": sender.pending,
                "deliveries": list(sender.deliveries),
            }
        )

    async def read(request: Request) -> Response:
        return state()

    async def register(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except json.JSONDecodeError as exc:
            return JSONResponse({"error": f"malformed JSON: {exc.msg}"}, status_code=400)
        target = _parse_target(body)
        if isinstance(target, str):
            return JSONResponse({"error": target}, status_code=400)
        sender.register(target)
        return state()

    async def unregister(request: Request) -> Response:
        sender.register(None)
        return state()

    return [
        Route(_CONTROL_PATH, read, methods=["GET"]),
        Route(_CONTROL_PATH, register, methods=["POST"]),
        Route(_CONTROL_PATH, unregister, methods=["DELETE"]),
    ]
