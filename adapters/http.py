"""The one HTTP client every adapter talks through.

`VendorClient` wraps an `httpx.AsyncClient` with the resilience policy: a
timeout on every call, bounded retries with full-jitter backoff that honour
``Retry-After``, retries of writes only when the caller marks them idempotent
(an idempotency key or an external-ID upsert), a circuit breaker per system,
credentials from a `CredentialProvider` (refreshed once on a 401), and the
request's correlation ID on every call. Vendor error bodies are turned into
the domain error tree once, here, by the adapter's `ErrorTranslator`.

A call made on behalf of a gateway request also honours the request's
deadline (`request_deadline`): an attempt waits at most the time left, no
attempt starts and no retry is slept for once it has passed, and an attempt
cut short by the deadline rather than by the policy's own timeout does not
count against the system's breaker. Without a deadline nothing changes.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from adapters.resilience import CircuitBreaker, ResiliencePolicy
from domain.errors import AdapterError, AuthFailed, CircuitOpen, UpstreamUnavailable
from domain.health import BreakerState, SystemHealth

__all__ = [
    "CORRELATION_HEADER",
    "BearerToken",
    "CredentialProvider",
    "ErrorTranslator",
    "VendorClient",
    "correlation_id",
    "request_deadline",
]

CORRELATION_HEADER = "X-Correlation-ID"
correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
"""Set by the gateway per request; sent on every vendor call made on its behalf."""

request_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "request_deadline", default=None
)
"""The `time.monotonic()` instant by which the current gateway request must answer.

Set by the gateway per request; None outside a request (no deadline)."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class ErrorTranslator(Protocol):
    """Vendor knowledge about error responses, one per adapter."""

    def __call__(self, response: httpx.Response) -> AdapterError:
        """Turn a non-success response into the domain error it means."""
        ...


class CredentialProvider(Protocol):
    async def headers(self, http: httpx.AsyncClient) -> Mapping[str, str]:
        """Headers that authenticate a call (fetching a token if needed)."""
        ...

    def invalidate(self) -> None:
        """Forget a cached token after the vendor refused it."""
        ...


class BearerToken:
    """A static bearer token plus any fixed headers the vendor requires."""

    def __init__(self, token: str, extra: Mapping[str, str] | None = None) -> None:
        self._headers = {"Authorization": f"Bearer {token}", **(extra or {})}

    async def headers(self, http: httpx.AsyncClient) -> Mapping[str, str]:
        return self._headers

    def invalidate(self) -> None:
        return None


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class VendorClient:
    """Resilient HTTP access to one system. Owned and closed by the adapter."""

    def __init__(
        self,
        *,
        system: str,
        base_url: str,
        policy: ResiliencePolicy,
        translate: ErrorTranslator,
        credentials: CredentialProvider | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        is_throttled: Callable[[httpx.Response], bool] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.system = system
        self.policy = policy
        self.breaker = breaker or CircuitBreaker.from_policy(policy)
        self._translate = translate
        self._credentials = credentials
        self._is_throttled = is_throttled or (lambda r: r.status_code in RETRYABLE_STATUS)
        self._sleep = sleep
        self._clock = clock  # the clock `request_deadline` is read against
        self._rng = rng or random.Random()
        self.http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(policy.timeout_s),
        )
        self.last_latency_ms: float | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send one logical call; return a 2xx/3xx response or raise an AdapterError.

        `idempotent` defaults from the method (GET/PUT/DELETE yes, POST/PATCH
        no). Pass True for a write that carries an idempotency key or upserts
        by external ID, and for read-only POSTs such as SuiteQL. `content` sends
        a body the adapter serialised itself (e.g. JSON with exact Decimal
        numbers, which the stdlib encoder behind `json` cannot write).
        """
        may_retry = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        deadline = request_deadline.get()
        attempt = 0
        reauthenticated = False
        while True:
            attempt += 1
            timeout_s = self.policy.timeout_s
            if deadline is not None:
                left = deadline - self._clock()
                if left <= 0:  # before the breaker: a call not made tells it nothing
                    raise UpstreamUnavailable(
                        "request deadline reached before the call", system=self.system
                    )
                timeout_s = min(timeout_s, left)
            cut_short = timeout_s < self.policy.timeout_s  # by the deadline, not the policy
            is_trial = self.breaker.state is BreakerState.HALF_OPEN
            if not self.breaker.allow():
                raise CircuitOpen("circuit breaker is open; call not attempted", system=self.system)
            failure: AdapterError
            wait: float | None = None
            try:
                async with asyncio.timeout(timeout_s):
                    response = await self._send(
                        method, url, params, json, headers, content, timeout_s=timeout_s
                    )
            except asyncio.CancelledError:
                if is_trial:  # our caller gave up on the half-open trial: it told us nothing
                    self.breaker.abandon()
                raise
            except (TimeoutError, httpx.TimeoutException) as exc:
                kind = "" if isinstance(exc, TimeoutError) else f" ({type(exc).__name__})"
                if cut_short:
                    # The request ran out of time, not the system out of its timeout.
                    if is_trial:
                        self.breaker.abandon()
                    raise UpstreamUnavailable(
                        f"timed out after {timeout_s:.3g}s{kind}: request deadline reached",
                        system=self.system,
                    ) from None
                failure = UpstreamUnavailable(
                    f"timed out after {self.policy.timeout_s}s{kind}", system=self.system
                )
            except httpx.TransportError as exc:
                failure = UpstreamUnavailable(
                    f"connection failed: {exc or type(exc).__name__}", system=self.system
                )
            else:
                if response.status_code < 400:
                    self.breaker.record_success()
                    return response
                if response.status_code == 401 and self._credentials and not reauthenticated:
                    self.breaker.release()
                    self._credentials.invalidate()
                    reauthenticated = True
                    attempt -= 1
                    continue
                translated = self._translate(response)
                if not self._is_throttled(response):
                    # The system answered and refused: not a technical failure.
                    self.breaker.release()
                    if response.status_code == 401 and not isinstance(translated, AuthFailed):
                        raise AuthFailed(
                            str(translated.args[0]) if translated.args else "unauthorized",
                            system=self.system,
                            status=401,
                            vendor_code=translated.vendor_code,
                            vendor_message=translated.vendor_message,
                        )
                    raise translated
                failure = translated
                wait = _retry_after_seconds(response)
            self.breaker.record_failure()
            if not may_retry or attempt >= self.policy.max_attempts:
                raise failure
            if wait is not None and wait > self.policy.retry_after_max_s:
                raise failure
            delay = wait if wait is not None else self.policy.backoff(attempt, self._rng)
            if deadline is not None and self._clock() + delay >= deadline:
                raise failure  # the retry could not start before the deadline
            await self._sleep(delay)

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        content: bytes | None = None,
        *,
        timeout_s: float | None = None,
    ) -> httpx.Response:
        merged: dict[str, str] = {}
        if self._credentials is not None:
            merged.update(await self._credentials.headers(self.http))
        cid = correlation_id.get()
        if cid:
            merged[CORRELATION_HEADER] = cid
        merged.update(headers or {})
        started = time.perf_counter()
        response = await self.http.request(
            method,
            url,
            params=params,
            json=json,
            content=content,
            headers=merged,
            # Transports see the attempt's own timeout (the client's default without one).
            timeout=httpx.USE_CLIENT_DEFAULT if timeout_s is None else httpx.Timeout(timeout_s),
        )
        self.last_latency_ms = (time.perf_counter() - started) * 1000
        return response

    async def probe(self, method: str, url: str, **kwargs: Any) -> SystemHealth:
        """One health call: reachable, latency and breaker state. Never raises."""
        started = time.perf_counter()
        try:
            await self.request(method, url, **kwargs)
        except AdapterError as exc:
            return SystemHealth(
                system=self.system,
                ok=False,
                latency_ms=None if isinstance(exc, CircuitOpen) else _ms(started),
                breaker=self.breaker.state,
                detail=str(exc),
            )
        return SystemHealth(
            system=self.system, ok=True, latency_ms=_ms(started), breaker=self.breaker.state
        )

    @property
    def breaker_state(self) -> BreakerState:
        return self.breaker.state


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
