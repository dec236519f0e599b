"""In-process sandboxes for tests: the four vendor apps reached over ASGITransport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from sandboxes import SANDBOX_NAMES, create_sandbox_app
from sandboxes.firm import Firm

__all__ = ["InProcessSandboxes"]


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
