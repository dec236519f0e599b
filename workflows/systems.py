"""The four systems as the workflows see them: ports, never vendor clients."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from domain.health import SystemHealth
from domain.ports import CRM, ERP, PSA, System, TimeTracking

__all__ = ["Systems", "check_systems"]


@dataclass(frozen=True, slots=True)
class Systems:
    crm: CRM
    psa: PSA
    time: TimeTracking
    erp: ERP

    def all(self) -> tuple[System, ...]:
        return (self.crm, self.psa, self.time, self.erp)

    async def aclose(self) -> None:
        await asyncio.gather(*(system.aclose() for system in self.all()))


async def check_systems(systems: Systems, timeout_s: float | None = None) -> list[SystemHealth]:
    """Probe every system concurrently; a probe past `timeout_s` reports unreachable."""

    async def one(system: System) -> SystemHealth:
        try:
            async with asyncio.timeout(timeout_s):
                return await system.health()
        except TimeoutError:
            return SystemHealth(
                system=system.name,
                ok=False,
                latency_ms=None,
                breaker=system.breaker_state,
                detail=f"no answer within {timeout_s}s",
            )

    return list(await asyncio.gather(*(one(s) for s in systems.all())))
