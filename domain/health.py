"""Health of one external system, as the gateway reports it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["BreakerState", "SystemHealth"]


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class SystemHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    system: str
    ok: bool
    latency_ms: float | None
    breaker: BreakerState
    detail: str | None = None
