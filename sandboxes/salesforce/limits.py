"""The org's daily API allocation: ``Sforce-Limit-Info`` and REQUEST_LIMIT_EXCEEDED.

Every authenticated API call uses one request of the allocation. Once the
allocation is used up, calls are refused with 403 REQUEST_LIMIT_EXCEEDED
(Salesforce never answers 429 and sends no Retry-After).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandboxes.salesforce.errors import SalesforceError
from sandboxes.salesforce.serialize import json_response

__all__ = ["DEFAULT_DAILY_LIMIT", "ApiUsage"]

DEFAULT_DAILY_LIMIT = 15_000


class ApiUsage:
    def __init__(self, daily_limit: int = DEFAULT_DAILY_LIMIT) -> None:
        self.daily_limit = daily_limit
        self.used = 0

    def header(self) -> str:
        return f"api-usage={self.used}/{self.daily_limit}"

    def consume(self) -> None:
        """Count one call, or refuse it when the allocation is used up."""
        if self.used >= self.daily_limit:
            raise SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        self.used += 1

    def reset(self) -> None:
        self.used = 0

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
