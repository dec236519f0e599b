"""Harvest's request limits, kept on our side so the adapter never trips them.

Harvest allows 100 requests per 15 s per token+account and answers a 429
with ``Retry-After`` (up to 15 s) beyond that. A batch that sends more than
100 calls at once (e.g. 150 approvals) would otherwise get its tail refused
mid-write. `SlidingWindow` holds every call until a slot is free: at most
`limit` calls are in flight or ended less than `window_s` ago. A slot is
dated by when its call *ended* (not when it was sent), so the window cannot
free before Harvest's, which counts a call when it arrives. Waiting is done
on the adapter's injectable ``clock`` and ``sleep``; waiters are served one
at a time, first come first served.

Reports (``/v2/reports/...``) have a second, much stricter limit: 100 per
15 minutes. A `Limit` is a window together with the calls it governs (a URL
path prefix) and how long a call may wait for its slot: the request limit
waits as long as it takes (at most 15 s), the report limit at most the
policy's timeout, since a caller gains nothing from a report minutes later.
A slot further away than that is not waited for: the call fails at once,
unsent, with `QuotaExhausted` (an `UpstreamUnavailable` that says when the
next slot frees), and the adapter may answer from a report it kept.

The limits are per adapter instance, i.e. per gateway replica, while
Harvest's are per token: N replicas sharing one token must each be given
``1 / N`` of them (Settings ``harvest_rate_limit``). 429s that still happen
(another client on the same token) are retried by `VendorClient`, which
honours ``Retry-After``.

`LimitedClient` is the `VendorClient` that takes a slot of every limit that
governs a call before every attempt: the first one in `request` (before its
timeout starts, so waiting for a slot is never mistaken for a slow vendor),
each retry in the pause `VendorClient` sleeps before it. It relies on that
pause preceding every retry; Harvest's credentials are static headers, so
`VendorClient`'s re-authentication path (a retry without a pause) is never
taken.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from adapters.http import VendorClient
from domain.errors import UpstreamUnavailable

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_RATE_WINDOW_S",
    "DEFAULT_REPORT_RATE_LIMIT",
    "DEFAULT_REPORT_RATE_WINDOW_S",
    "REPORTS_PREFIX",
    "Limit",
    "LimitedClient",
    "QuotaExhausted",
    "SlidingWindow",
    "WindowFull",
]

DEFAULT_RATE_LIMIT = 100
DEFAULT_RATE_WINDOW_S = 15.0
DEFAULT_REPORT_RATE_LIMIT = 100
DEFAULT_REPORT_RATE_WINDOW_S = 900.0
REPORTS_PREFIX = "/v2/reports/"

Sleep = Callable[[float], Awaitable[None]]


class WindowFull(Exception):
    """No slot frees within the wait allowed; the next one is `wait_s` away."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"next slot in {wait_s:.1f} s")
        self.wait_s = wait_s


class QuotaExhausted(UpstreamUnavailable):
    """A call was not sent: its limit has no slot within the wait allowed."""

    def __init__(self, message: str, *, system: str, retry_in_s: float) -> None:
        super().__init__(message, system=system)
        self.retry_in_s = retry_in_s


class SlidingWindow:
    """At most `limit` calls in flight or ended within the last `window_s` seconds."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float],
        sleep: Sleep,
        setting: str = "rate",  # what errors call it: rate_limit, rate_window_s
    ) -> None:
        if limit < 1:
            raise ValueError(f"{setting}_limit must be at least 1 (or None to disable it)")
        if window_s <= 0:
            raise ValueError(f"{setting}_window_s must be positive")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._ended: deque[float] = deque()  # when each recent call ended, oldest first
        self._turn = asyncio.Lock()  # one waiter at a time, in arrival order
        self._freed = asyncio.Event()

    async def acquire(self, max_wait_s: float | None = None) -> None:
        """Take a slot, waiting until one is free. Cancelled while waiting: nothing taken.

        With `max_wait_s`, a slot that frees later than that from now is not
        waited for: `WindowFull` is raised (nothing taken) instead.
        """
        deadline = None if max_wait_s is None else self._clock() + max_wait_s
        async with self._turn:
            while True:
                now = self._clock()
                self._expire(now)
                if self._in_flight + len(self._ended) < self.limit:
                    self._in_flight += 1
                    return
                # the soonest a slot frees: the oldest ended call's, else a window after one ends
                wait = self._ended[0] + self.window_s - now if self._ended else self.window_s
                if deadline is not None and now + wait > deadline:
                    raise WindowFull(wait)
                if self._ended:
                    await self._sleep(wait)
                else:  # every slot is in flight: wait for a call to end
                    self._freed.clear()
                    await self._freed.wait()

    def take(self) -> None:
        """Take a slot without waiting (to balance a `release` still to come)."""
        self._in_flight += 1

    def release(self) -> None:
        """A call taken with `acquire` (or `take`) ended: its slot frees `window_s` from now."""
        self._in_flight -= 1
        self._ended.append(self._clock())
        self._freed.set()

    def give_back(self) -> None:
        """A slot taken was not used (no call was sent): it frees at once."""
        self._in_flight -= 1
        self._freed.set()

    def _expire(self, now: float) -> None:
        while self._ended and self._ended[0] <= now - self.window_s:
            self._ended.popleft()


@dataclass(frozen=True, slots=True)
class Limit:
    """A window the calls whose URL path starts with `prefix` take a slot of.

    `max_wait_s` None: wait as long as it takes; else a slot further away
    fails the call with `QuotaExhausted` (`name` says which limit).
    """

    window: SlidingWindow
    prefix: str = "/"
    max_wait_s: float | None = None
    name: str = "rate limit"

    def governs(self, path: str) -> bool:
        return path.startswith(self.prefix)


# The limits whose slots the current request holds, for the pause before its retry.
_held: contextvars.ContextVar[tuple[Limit, ...]] = contextvars.ContextVar(
    "harvest_limits_held", default=()
)


class LimitedClient(VendorClient):
    """A `VendorClient` whose every attempt first takes a slot of each limit governing it."""

    def __init__(self, *, limits: Sequence[Limit], sleep: Sleep, **kwargs: Any) -> None:
        self._limits = tuple(limits)
        self._pause_sleep = sleep
        super().__init__(sleep=self._pause if self._limits else sleep, **kwargs)

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
        send = super().request
        call = partial(
            send,
            method,
            url,
            params=params,
            json=json,
            headers=headers,
            idempotent=idempotent,
            content=content,
        )
        path = httpx.URL(url).path
        limits = tuple(limit for limit in self._limits if limit.governs(path))
        if not limits:
            return await call()
        await self._acquire(limits)
        held = _held.set(limits)
        try:
            return await call()
        finally:
            _held.reset(held)
            for limit in limits:
                limit.window.release()

    async def _acquire(self, limits: Sequence[Limit]) -> None:
        """A slot of every limit, in order; if one cannot be had, none is kept."""
        taken: list[Limit] = []
        try:
            for limit in limits:
                try:
                    await limit.window.acquire(limit.max_wait_s)
                except WindowFull as full:
                    raise QuotaExhausted(
                        f"{limit.name} used up; next slot in {math.ceil(full.wait_s)} s",
                        system=self.system,
                        retry_in_s=full.wait_s,
                    ) from None
                taken.append(limit)
        except BaseException:
            for limit in taken:
                limit.window.give_back()
            raise

    async def _pause(self, delay: float) -> None:
        """`VendorClient`'s pause before a retry: the attempt that failed ended, the next waits."""
        limits = _held.get()
        for limit in limits:
            limit.window.release()
        try:
            await self._pause_sleep(delay)
            await self._acquire(limits)
        except BaseException:
            for limit in limits:
                limit.window.take()  # `request` releases each slot once when the call ends
            raise
