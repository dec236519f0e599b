"""GraphQL types for the health of the systems behind the gateway."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.health import SystemHealth

__all__ = ["Breaker", "SystemStatus"]


@strawberry.enum(description="Circuit breaker state of one system's adapter.")
class Breaker(Enum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@strawberry.type(description="Health of one system the gateway depends on.")
class SystemStatus:
    name: str = strawberry.field(description="salesforce, kantata, harvest or netsuite.")
    ok: bool = strawberry.field(description="The system answered an authenticated probe.")
    latency_ms: float | None = strawberry.field(description="Round trip of the probe, in ms.")
    breaker: Breaker
    detail: str | None = strawberry.field(description="Why the system is not ok.")

    @classmethod
    def from_model(cls, health: SystemHealth) -> SystemStatus:
        return cls(
            name=health.system,
            ok=health.ok,
            latency_ms=health.latency_ms,
            breaker=Breaker(health.breaker.value),
            detail=health.detail,
        )
