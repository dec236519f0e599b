"""The typed per-request context resolvers receive.

`ContextFactory` is built once by the composition root with the long-lived
services; it makes a fresh `Context` (with fresh DataLoaders) for every
request, so no loader state is ever shared between requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.types import Info as _Info

from workflows.systems import Systems

__all__ = ["Context", "ContextFactory", "Info"]


@dataclass(slots=True)
class Context:
    systems: Systems
    correlation_id: str
    health_timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class ContextFactory:
    systems: Systems
    health_timeout_s: float | None = None

    def __call__(self, correlation_id: str) -> Context:
        return Context(
            systems=self.systems,
            correlation_id=correlation_id,
            health_timeout_s=self.health_timeout_s,
        )


Info = _Info[Context, None]
