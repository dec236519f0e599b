"""Harvest's request limit, kept on our side so the adapter never trips it.

Harvest allows 100 requests per 15 s per token+account and answers a 429
with ``Retry-After`` (up to 15 s) beyond that. A batch that sends more than
100 calls at once (e.g. 150 approvals) would otherwise get its tail refused
mid-write. `SlidingWindow` holds every call until a slot is free: at most
`limit` calls are in flight or ended less than `window_s` ago. A slot is
dated by when its call *ended* (not when it was sent), so the window cannot
free before Harvest's, which counts a call when it arrives. Waiting is done
on the adapter's injectable ``clock`` and ``sleep``; waiters are served one
at a time, first come first served.

The limit is per adapter instance, i.e. per gateway replica, while
Harvest's is per token: N replicas sharing one token must each be given
``100 // N`` (Settings ``harvest_rate_limit``). 429s that still happen
(another client on the same token) are retried by `VendorClient`, which
honours ``Retry-After``.

`LimitedClient` is the `VendorClient` that takes a slot before every
attempt: the first one in `request` (before its timeout starts, so waiting
for a slot is never mistaken for a slow vendor), each retry in the pause
`VendorClient` sleeps before it. It relies on that pause preceding every
retry; Harvest's credentials are static headers, so `VendorClient`'s
re-authentication path (a retry without a pause) is never taken.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

import httpx

from adapters.http import VendorClient

__all__ = ["DEFAULT_RATE_LIMIT", "DEFAULT_RATE_WINDOW_S", "LimitedClient", "SlidingWindow"]

DEFAULT_RATE_LIMIT = 100
DEFAULT_RATE_WINDOW_S = 15.0

Sleep = Callable[[float], Awaitable[None]]


class SlidingWindow:
    """At most `limit` calls in flight or ended within the last `window_s` seconds."""

    def __init__(
        self, limit: int, window_s: float, *, clock: Callable[[], float], sleep: Sleep
    ) -> None:
        if limit < 1:
            raise ValueError("rate_limit must be at least 1 (or None to disable it)")
        if window_s <= 0:
            raise ValueError("rate_window_s must be positive")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._ended: deque[float] = deque()  # when each recent call ended, oldest first
        self._turn = asyncio.Lock()  # one waiter at a time, in arrival order
        self._freed = asyncio.Event()

    async def acquire(self) -> None:
        """Take a slot, waiting until one is free. Cancelled while waiting: nothing taken."""
        async with self._turn:
            while True:
                now = self._clock()
                self._expire(now)
                if self._in_flight + len(self._ended) < self.limit:
                    self._in_flight += 1
                    return
                if self._ended:
                    await self._sleep(self._ended[0] + self.window_s - now)
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

    def _expire(self, now: float) -> None:
        while self._ended and self._ended[0] <= now - self.window_s:
            self._ended.popleft()


class LimitedClient(VendorClient):
    """A `VendorClient` whose every attempt first takes a slot of `window` (None: no limit)."""

    def __init__(self, *, window: SlidingWindow | None, sleep: Sleep, **kwargs: Any) -> None:
        self._window = window
        self._pause_sleep = sleep
        super().__init__(sleep=self._pause if window is not None else sleep, **kwargs)

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
        window = self._window
        if window is None:
            return await call()
        await window.acquire()
        try:
            return await call()
        finally:
            window.release()

    async def _pause(self, delay: float) -> None:
        """`VendorClient`'s pause before a retry: the attempt that failed ended, the next waits."""
        assert self._window is not None
        self._window.release()
        try:
            await self._pause_sleep(delay)
            await self._window.acquire()
        except BaseException:
            self._window.take()  # `request` releases the slot once when the call ends
            raise
