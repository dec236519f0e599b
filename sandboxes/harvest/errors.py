"""How Harvest says no: status codes and error bodies.

- 400 / 422 / 5xx / 429: ``{"message": "..."}`` (the 422 shape is documented as
  unverified; the 429 and 5xx bodies are not published at all: unverified).
- 401 bad token: the OAuth shape ``{"error": "invalid_token", "error_description": "..."}``.
- 403 missing or foreign ``Harvest-Account-Id``: ``{"error": "forbidden", ...}``
  (unverified: Harvest may answer 401 here).
- 404: ``{"status": 404, "error": "Not Found"}`` (unverified).
"""

from __future__ import annotations

from typing import Any

from sandboxes.control import Faults
from sandboxes.harvest.jsonenc import HarvestJSONResponse

__all__ = [
    "INVALID_TOKEN_DESCRIPTION",
    "HarvestError",
    "forbidden",
    "invalid_token",
    "message",
    "not_found",
    "server_error",
    "throttled",
    "too_many_requests",
]

INVALID_TOKEN_DESCRIPTION = (
    "The access token provided is expired, revoked, malformed or invalid for other reasons."
)


class HarvestError(Exception):
    """Raised by a handler; rendered as the vendor's status and body."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> HarvestJSONResponse:
        return HarvestJSONResponse(self.body, status_code=self.status, headers=self.headers)


def message(status: int, text: str) -> HarvestError:
    """The plain Harvest error: ``{"message": text}``."""
    return HarvestError(status, {"message": text})


def not_found() -> HarvestError:
    return HarvestError(404, {"status": 404, "error": "Not Found"})


def invalid_token() -> HarvestError:
    return HarvestError(
        401, {"error": "invalid_token", "error_description": INVALID_TOKEN_DESCRIPTION}
    )


def forbidden(account_id: str | None) -> HarvestError:
    detail = (
        "Missing Harvest-Account-Id header."
        if not account_id
        else f"You do not have access to account {account_id}."
    )
    return HarvestError(403, {"error": "forbidden", "error_description": detail})


def too_many_requests(retry_after_s: int) -> HarvestError:
    """429 + ``Retry-After`` in whole seconds (the body is unverified)."""
    return HarvestError(429, {"message": "Too many requests"}, {"Retry-After": str(retry_after_s)})


def throttled(faults: Faults) -> HarvestJSONResponse:
    """FaultMiddleware's throttle answer, the same as the real limiter's."""
    return too_many_requests(faults.retry_after_s).response()


def server_error(status: int) -> HarvestJSONResponse:
    text = "Service Unavailable" if status == 503 else "Internal Server Error"
    return HarvestJSONResponse({"message": text}, status_code=status)
