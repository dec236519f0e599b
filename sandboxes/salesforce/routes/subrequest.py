"""Run one API subrequest of a composite call through the app's own router.

The subrequest carries the caller's session, is not counted against the API
allocation (the composite call was) and bypasses fault injection. URLs may
be absolute paths (``/services/data/v60.0/...``) or version-relative
(``v60.0/sobjects/...``) as in Composite Batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message

from sandboxes.salesforce.serialize import dumps, parse_json

__all__ = ["SUBREQUEST", "Outcome", "run_subrequest"]

SUBREQUEST = "sandbox.subrequest"
Outcome = tuple[int, Any]  # (status, parsed JSON body or None)


async def run_subrequest(
    target: Callable[[], ASGIApp], outer: Request, method: str, url: str, body: Any = None
) -> Outcome:
    path, _, query = url.partition("?")
    if not path.startswith("/services/data/"):
        path = "/services/data/" + path.lstrip("/")
    raw = dumps(body).encode() if body is not None else b""
    headers = [(b"content-type", b"application/json")]
    if "authorization" in outer.headers:
        headers.append((b"authorization", outer.headers["authorization"].encode("latin-1")))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": outer.url.scheme,
        "path": path,
        "raw_path": path.encode("utf-8", "replace"),
        "root_path": "",
        "query_string": query.encode("utf-8", "replace"),
        "headers": headers,
        "server": outer.scope.get("server"),
        "client": outer.scope.get("client"),
        "state": {},
        SUBREQUEST: True,
    }
    sent = False
    status = 500
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await target()(scope, receive, send)
    content = b"".join(chunks)
    return status, parse_json(content) if content.strip() else None
