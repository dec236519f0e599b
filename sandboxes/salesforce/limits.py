"""The org's API allocation over a rolling 24 hours: ``Sforce-Limit-Info`` and 403.

Every authenticated API call uses one request of the allocation. Salesforce
counts the calls of the last 24 hours, not of a calendar day, so usage falls
again as old calls age out. The sandbox counts calls in per-minute buckets on
its injectable clock (at most 1,441 buckets, however long it runs): a call
stops counting once its whole minute is more than 24 hours old, i.e. between
24 h and 24 h + 1 min after it was made, never earlier. While the window holds
`daily_limit` calls, further calls are refused with 403 REQUEST_LIMIT_EXCEEDED
(Salesforce never answers 429 and sends no Retry-After); a refused call is not
counted. If the clock steps backwards, calls go into the newest bucket.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from sandboxes.salesforce.errors import SalesforceError
from sandboxes.salesforce.serialize import json_response

__all__ = ["BUCKET", "DEFAULT_DAILY_LIMIT", "WINDOW", "ApiUsage"]

DEFAULT_DAILY_LIMIT = 15_000
WINDOW = timedelta(hours=24)
BUCKET = timedelta(minutes=1)
_BUCKETS_IN_WINDOW = WINDOW // BUCKET


@dataclass(slots=True)
class _Bucket:
    minute: int  # whole minutes since the epoch
    calls: int


class ApiUsage:
    def __init__(
        self, clock: Callable[[], datetime], daily_limit: int = DEFAULT_DAILY_LIMIT
    ) -> None:
        self.daily_limit = daily_limit
        self._clock = clock
        self._buckets: deque[_Bucket] = deque()
        self._in_window = 0

    def _minute(self) -> int:
        return int(self._clock().timestamp() // BUCKET.total_seconds())

    def _expire(self, minute: int) -> None:
        """Drop buckets whose every call is more than 24 h old at `minute`."""
        while self._buckets and self._buckets[0].minute + _BUCKETS_IN_WINDOW < minute:
            self._in_window -= self._buckets.popleft().calls

    @property
    def used(self) -> int:
        """Calls made in the last 24 hours (to the minute)."""
        self._expire(self._minute())
        return self._in_window

    def header(self) -> str:
        return f"api-usage={self.used}/{self.daily_limit}"

    def consume(self) -> None:
        """Count one call, or refuse it while the window's allocation is used up."""
        minute = self._minute()
        self._expire(minute)
        if self._in_window >= self.daily_limit:
            raise SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if self._buckets and self._buckets[-1].minute >= minute:
            self._buckets[-1].calls += 1
        else:
            self._buckets.append(_Bucket(minute, 1))
        self._in_window += 1

    def reset(self) -> None:
        self._buckets.clear()
        self._in_window = 0

    async def limits_endpoint(self, request: Request) -> Response:
        """``GET /services/data/v60.0/limits``."""
        return json_response(
            {
                "DailyApiRequests": {
                    "Max": self.daily_limit,
                    "Remaining": max(0, self.daily_limit - self.used),
                },
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DataStorageMB": {"Max": 1024, "Remaining": 1000},
            }
        )

    def bucket_count(self) -> int:
        """How many per-minute buckets are held (bounded by the window)."""
        return len(self._buckets)
