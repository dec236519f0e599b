"""Root query fields: engagements, customers, opportunities, nodes, systems."""

from __future__ import annotations

import strawberry
from strawberry import relay

from domain.engagement import EngagementStatus
from domain.ids import CustomerKey, EngagementKey, RecordId, is_engagement_key
from domain.models import BillingModel, CustomerStatus
from resolvers.context import Info
from resolvers.errors import bad_input, checked, guarded, not_found
from resolvers.governance_queries import GovernanceQuery
from resolvers.ids import node_id_or_natural
from resolvers.system_types import SystemStatus
from resolvers.types.common import Connection, connection_from
from resolvers.types.graph import Customer, Engagement, Opportunity, load_engagement
from workflows.engagements import EngagementFilter, EngagementOrder, list_engagements
from workflows.paging import paginate
from workflows.systems import check_systems

__all__ = ["CustomerFilterInput", "EngagementFilterInput", "Query"]


@strawberry.input(description="Every given condition must hold.")
class EngagementFilterInput:
    legal_entity: str | None = None
    status: EngagementStatus | None = None
    billing_model: BillingModel | None = None
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="A Customer id (global) or customer key such as CUST-0007."
    )
    service_line: str | None = None
    text: str | None = strawberry.field(default=None, description="Part of the name or key.")


@strawberry.input(description="Every given condition must hold.")
class CustomerFilterInput:
    legal_entity: str | None = None
    status: CustomerStatus | None = None
    text: str | None = strawberry.field(default=None, description="Part of the name or key.")


@strawberry.type
class Query(GovernanceQuery):
    node: relay.Node | None = relay.node()

    @strawberry.field(description="Health and latency of each system behind the gateway.")
    async def systems(self, info: Info) -> list[SystemStatus]:
        ctx = info.context
        health = await check_systems(ctx.systems, ctx.options.health_timeout_s)
        return [SystemStatus.from_model(h) for h in health]

    @strawberry.field(description="One engagement by its key, e.g. ENG-2026-00042.")
    async def engagement(self, info: Info, key: str) -> Engagement | None:
        if not is_engagement_key(key):
            raise bad_input(f"not an engagement key: {key!r} (expected ENG-YYYY-NNNNN)", info)
        found = await guarded(info, load_engagement(info, EngagementKey(key)))
        if found is None:
            raise not_found(f"no engagement has key {key}", info)
        return Engagement.from_model(found)

    @strawberry.field(description="Engagements matching `filter`, as a connection.")
    async def engagements(
        self,
        info: Info,
        filter: EngagementFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
        order_by: EngagementOrder = EngagementOrder.KEY_ASC,
    ) -> Connection[Engagement] | None:
        f = filter or EngagementFilterInput()
        customer_key = None
        if f.customer_id is not None:
            customer_key = CustomerKey(
                checked(info, node_id_or_natural, str(f.customer_id), "Customer")
            )
        where = EngagementFilter(
            legal_entity=f.legal_entity,
            status=f.status,
            billing_model=f.billing_model,
            customer_key=customer_key,
            service_line=f.service_line,
            text=f.text,
        )
        listing = await guarded(info, list_engagements(info.context.systems, where, order_by))
        loaders = info.context.loaders
        for key, opportunity in listing.opportunities.items():
            loaders.opportunity_by_key.prime(key, opportunity)
        for key, project in listing.projects.items():
            loaders.project_by_key.prime(key, project)
        limit = info.context.options.max_page_size
        page = checked(
            info, paginate, listing.engagements, first=first, after=after, max_page_size=limit
        )
        return connection_from(page, Engagement.from_model)

    @strawberry.field(description="One customer by id (global) or customer key.")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        key = checked(info, node_id_or_natural, str(id), "Customer")
        found = await guarded(info, info.context.loaders.customer_by_key.load(CustomerKey(key)))
        if found is None:
            raise not_found(f"no customer has id {id}", info)
        return Customer.from_model(found)

    @strawberry.field(description="Customers matching `filter`, ordered by key.")
    async def customers(
        self,
        info: Info,
        filter: CustomerFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Customer] | None:
        f = filter or CustomerFilterInput()
        everyone = await guarded(info, info.context.systems.erp.list_customers())
        needle = f.text.casefold() if f.text else None
        rows = sorted(
            (
                c
                for c in everyone
                if (f.legal_entity is None or c.legal_entity == f.legal_entity)
                and (f.status is None or c.status is f.status)
                and (needle is None or needle in c.name.casefold() or needle in c.key.casefold())
            ),
            key=lambda c: (c.key, c.id),
        )
        limit = info.context.options.max_page_size
        page = checked(info, paginate, rows, first=first, after=after, max_page_size=limit)
        return connection_from(page, Customer.from_model)

    @strawberry.field(description="One CRM opportunity by id (global) or CRM id.")
    async def opportunity(self, info: Info, id: strawberry.ID) -> Opportunity | None:
        crm_id = checked(info, node_id_or_natural, str(id), "Opportunity")
        found = await guarded(info, info.context.loaders.opportunity_by_id.load(RecordId(crm_id)))
        if found is None:
            raise not_found(f"no opportunity has id {id}", info)
        return Opportunity.from_model(found)
