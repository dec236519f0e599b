"""In-process sandboxes for tests: the four vendor apps reached over ASGITransport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from sandboxes import SANDBOX_NAMES, create_sandbox_app
from sandboxes.firm import Firm

__all__ = ["FaultOnce", "InProcessSandboxes"]


@dataclass
class InProcessSandboxes:
    apps: dict[str, Starlette]

    @classmethod
    def start(
        cls, firm: Firm, options: dict[str, dict[str, Any]] | None = None
    ) -> InProcessSandboxes:
        """The four sandboxes; `options[name]` go to that vendor's create_app."""
        extra = options or {}
        return cls(
            {
                name: create_sandbox_app(name, firm, seed=7, **extra.get(name, {}))
                for name in SANDBOX_NAMES
            }
        )

    def transports(self) -> dict[str, httpx.AsyncBaseTransport]:
        return {name: httpx.ASGITransport(app=app) for name, app in self.apps.items()}

    def control(self, name: str) -> httpx.AsyncClient:
        """A client for one sandbox's /__sandbox/ control plane."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.apps[name]), base_url=f"http://{name}"
        )

    async def set_faults(self, name: str, **faults: float) -> None:
        async with self.control(name) as client:
            response = await client.post("/__sandbox/faults", json=faults)
            response.raise_for_status()

    async def calls(self, name: str) -> int:
        async with self.control(name) as client:
            total = (await client.get("/__sandbox/calls")).json()["total"]
            assert isinstance(total, int)
            return total


class FaultOnce(httpx.AsyncBaseTransport):
    """Switches one sandbox fault on (rate 1) for the first request to one endpoint only.

    ``fault="error_rate"``: that request fails before it is applied;
    ``fault="error_after_rate"``: it is applied, then its answer is lost.
    """

    def __init__(
        self, inner: httpx.AsyncBaseTransport, method: str, path: str, *, fault: str
    ) -> None:
        self.inner, self.method, self.path, self.fault = inner, method, path, fault
        self.armed = True

    async def _set(self, around: httpx.Request, rate: int) -> None:
        url = around.url.copy_with(path="/__sandbox/faults", query=None)
        request = httpx.Request("POST", url, json={self.fault: rate})
        await (await self.inner.handle_async_request(request)).aread()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        hit = request.method == self.method and request.url.path == self.path
        if not (hit and self.armed):
            return await self.inner.handle_async_request(request)
        self.armed = False
        await self._set(request, 1)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            await self._set(request, 0)
