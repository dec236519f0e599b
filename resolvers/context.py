"""The typed per-request context resolvers receive.

`ContextFactory` is built once by the composition root with the long-lived
services; it makes a fresh `Context` (with fresh DataLoaders and a fresh
reference-data memo) for every request, so no loader state is ever shared
between requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from strawberry.types import Info as _Info

from domain.governance import Principal
from resolvers.loaders import Loaders
from workflows.governance import Governance
from workflows.paging import MAX_PAGE_SIZE
from workflows.reference import ReferenceData, RequestReference
from workflows.systems import Systems

__all__ = ["Context", "ContextFactory", "GraphOptions", "Info"]


@dataclass(frozen=True, slots=True)
class GraphOptions:
    naive: bool = False  # the benchmark baseline: no batching, no concurrency
    max_page_size: int = MAX_PAGE_SIZE
    as_of: date | None = None  # "today" for due billing-schedule lines; None: the real date
    health_timeout_s: float | None = None

    def today(self) -> date:
        return self.as_of or date.today()


@dataclass(slots=True)
class Context:
    systems: Systems
    correlation_id: str
    loaders: Loaders
    reference: RequestReference
    options: GraphOptions = field(default_factory=GraphOptions)
    principal: Principal | None = None  # the authenticated caller; None: anonymous
    governance: Governance | None = None  # governed transitions (mutations)
    idempotency_key: str | None = None  # the request's Idempotency-Key header


@dataclass(frozen=True, slots=True)
class ContextFactory:
    systems: Systems
    reference: ReferenceData
    options: GraphOptions = field(default_factory=GraphOptions)
    governance: Governance | None = None

    def __call__(self, correlation_id: str, principal: Principal | None = None) -> Context:
        return Context(
            systems=self.systems,
            correlation_id=correlation_id,
            loaders=Loaders(self.systems, naive=self.options.naive),
            reference=RequestReference(self.reference),
            options=self.options,
            principal=principal,
            governance=self.governance,
        )


Info = _Info[Context, None]
