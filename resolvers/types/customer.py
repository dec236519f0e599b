"""The customer: named as the CRM knows it, master data from the ERP on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import strawberry
from strawberry import relay

from domain import models
from domain.ids import CustomerKey
from domain.models import CustomerStatus
from resolvers.context import Info
from resolvers.errors import checked, guarded
from resolvers.ids import node_id_from_global
from resolvers.types.reference import LegalEntity

__all__ = ["Customer", "legal_entity_named"]


async def legal_entity_named(info: Info, code: str | None) -> LegalEntity | None:
    if code is None:
        return None
    entities = await info.context.reference.legal_entities()
    found = next((e for e in entities if e.code == code), None)
    return LegalEntity.from_model(found) if found else None


@strawberry.federation.type(
    keys=["id"],
    description="A customer. Its master data (status, tax jurisdiction...) is the ERP's, "
    "read only when asked for.",
)
class Customer(relay.Node):
    node_key: relay.NodeID[str]
    name: str
    record: strawberry.Private[models.Customer | None]

    @strawberry.field(description="The customer master key, e.g. CUST-0007.")
    def key(self) -> str:
        return self.node_key

    async def _master(self, info: Info) -> models.Customer | None:
        if self.record is None:
            loader = info.context.loaders.customer_by_key
            self.record = await guarded(info, loader.load(CustomerKey(self.node_key)))
        return self.record

    @strawberry.field(description="The ERP's internal id.")
    async def erp_id(self, info: Info) -> str | None:
        master = await self._master(info)
        return master.id if master else None

    @strawberry.field
    async def status(self, info: Info) -> CustomerStatus | None:
        master = await self._master(info)
        return master.status if master else None

    @strawberry.field
    async def currency(self, info: Info) -> str | None:
        master = await self._master(info)
        return master.currency if master else None

    @strawberry.field
    async def tax_jurisdiction(self, info: Info) -> str | None:
        master = await self._master(info)
        return master.tax_jurisdiction if master else None

    @strawberry.field
    async def email(self, info: Info) -> str | None:
        master = await self._master(info)
        return master.email if master else None

    @strawberry.field
    async def legal_entity(self, info: Info) -> LegalEntity | None:
        master = await self._master(info)
        if master is None:
            return None
        return await guarded(info, legal_entity_named(info, master.legal_entity))

    @classmethod
    def from_model(cls, m: models.Customer) -> Customer:
        return cls(node_key=m.key, name=m.name, record=m)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Customer | None]:
        loader = info.context.loaders.customer_by_key
        found = await asyncio.gather(*(loader.load(CustomerKey(k)) for k in node_ids))
        return [cls.from_model(c) if c else None for c in found]

    @classmethod
    async def resolve_reference(cls, info: Info, id: object = None) -> Customer | None:
        """Federation: the customer a supergraph refers to by global id; unknown → null."""
        node_id = checked(info, node_id_from_global, id, "Customer")
        found = await guarded(info, cls.resolve_nodes(info=info, node_ids=[node_id]))
        return found[0]
