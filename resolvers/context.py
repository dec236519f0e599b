"""The typed per-request context resolvers receive.

A fresh `Context` is built for every request by the gateway; nothing in it is
shared between requests except the long-lived services it points to.
"""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.types import Info as _Info

from workflows.systems import Systems

__all__ = ["Context", "Info"]


@dataclass(slots=True)
class Context:
    systems: Systems
    correlation_id: str
    health_timeout_s: float | None = None


Info = _Info[Context, None]
