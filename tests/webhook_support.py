"""Webhooks in tests: a recording receiver on a real port, and signing done independently.

`Receiver` is the smallest webhook endpoint: it records every request and
answers with the statuses it was told to (then 202). `signed` builds the
``X-EG-*`` headers with hmac directly, so a test never trusts the code under
test to sign for it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.serving import wait_until

__all__ = ["Received", "Receiver", "hmac_hex", "signed"]


def hmac_hex(secret: str, timestamp: int | str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed(
    body: bytes, secrets: Iterable[str], *, timestamp: int, delivery: str = "d-1"
) -> dict[str, str]:
    macs = ",".join(f"v1={hmac_hex(s, timestamp, body)}" for s in secrets)
    return {
        "Content-Type": "application/json",
        "X-EG-Signature": f"t={timestamp},{macs}",
        "X-EG-Delivery": delivery,
    }


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Records each POST; answers the queued statuses first, then 202."""

    def __init__(self, answers: Iterable[int] = ()) -> None:
        self.received: list[Received] = []
        self.answers: deque[int] = deque(answers)
        self.app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["POST"])])

    async def _endpoint(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.received.append(Received(request.url.path, headers, await request.body()))
        status = self.answers.popleft() if self.answers else 202
        return JSONResponse({"status": status}, status_code=status)

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Received]:
        await wait_until(lambda: len(self.received) >= count, timeout_s, f"{count} webhook(s)")
        return self.received
