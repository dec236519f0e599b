"""The node types of the engagement graph: Engagement, Opportunity, Project and
Invoice (Customer is in customer.py, the financial figures in financials.py).
Each is a Relay node (global ``id``) and resolves its neighbours through the
request's loaders, so a level of a query costs one call per system and kind of
record, whatever the number of rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import date
from typing import TypeVar

import strawberry
from strawberry import relay

from domain import models
from domain.engagement import Engagement as DomainEngagement
from domain.engagement import EngagementStatus
from domain.errors import DomainError
from domain.ids import EngagementKey, RecordId, is_engagement_key
from domain.models import BillingModel, InvoiceStatus, ProjectStatus
from resolvers.context import Info
from resolvers.errors import bad_input, checked, guarded
from resolvers.ids import node_id_from_global
from resolvers.loaders import ManyBy, One, TimeWindow
from resolvers.types.billing import (
    BillingSchedule,
    InvoiceFilter,
    InvoiceLine,
    Payment,
)
from resolvers.types.common import Connection, Money, connection_from, money
from resolvers.types.customer import Customer, legal_entity_named
from resolvers.types.delivery import (
    Assignment,
    Expense,
    ExpenseFilter,
    Milestone,
    TimeEntry,
    TimeEntryFilter,
)
from resolvers.types.financials import Financials, ledger_of
from resolvers.types.reference import LegalEntity, RateCard
from workflows.engagements import engagement_from
from workflows.paging import Page, paginate

T = TypeVar("T")
M = TypeVar("M")
N = TypeVar("N")
R = TypeVar("R")

__all__ = [
    "Customer",
    "Engagement",
    "Invoice",
    "Opportunity",
    "Project",
    "load_engagement",
]


_WITHOUT_PROJECT = (EngagementStatus.QUALIFYING, EngagementStatus.LOST, EngagementStatus.WON)


async def load_engagement(info: Info, key: EngagementKey) -> DomainEngagement | None:
    loaders = info.context.loaders
    opportunity = await loaders.opportunity_by_key.load(key)
    if opportunity is None:
        return None
    project, known = None, True
    if opportunity.is_won:
        try:
            project = await loaders.project_by_key.load(key)
        except DomainError:  # the PSA is down: the deal is still there, its status is not
            known = False
    return engagement_from(opportunity, project, project_known=known)


@strawberry.federation.type(
    keys=["key"],
    description="One client engagement across CRM, PSA, time tracking and ERP.",
)
class Engagement(relay.Node):
    node_key: relay.NodeID[str]
    name: str
    billing_model: BillingModel | None
    service_line: str | None
    rate_card_version: str | None
    currency: str | None
    close_date: date | None
    model: strawberry.Private[DomainEngagement]

    @strawberry.field(description="The engagement key, e.g. ENG-2026-00042.")
    def key(self) -> str:
        return self.model.key

    @strawberry.field(description="Null when the PSA, which tells a won deal's status, is down.")
    async def status(self, info: Info) -> EngagementStatus | None:
        if self.model.status is None:  # surface why: the PSA's error
            await guarded(info, info.context.loaders.project_by_key.load(self.model.key))
        return self.model.status

    @strawberry.field
    def booked_value(self) -> Money | None:
        return money(self.model.booked_value)

    @strawberry.field
    async def legal_entity(self, info: Info) -> LegalEntity | None:
        return await guarded(info, legal_entity_named(info, self.model.legal_entity))

    @strawberry.field(description="Named as the CRM knows it; master data from the ERP on demand.")
    async def customer(self, info: Info) -> Customer | None:
        key = self.model.customer_key
        if key is None:
            return None
        if self.model.customer_name is not None:
            return Customer(node_key=key, name=self.model.customer_name, record=None)
        found = await guarded(info, info.context.loaders.customer_by_key.load(key))
        return Customer.from_model(found) if found else None

    @strawberry.field
    async def opportunity(self, info: Info) -> Opportunity | None:
        found = await guarded(info, info.context.loaders.opportunity_by_key.load(self.model.key))
        return Opportunity.from_model(found) if found else None

    @strawberry.field
    async def project(self, info: Info) -> Project | None:
        if self.model.status in _WITHOUT_PROJECT:
            return None  # only a won deal is delivered; the status already says there is none
        found = await guarded(info, info.context.loaders.project_by_key.load(self.model.key))
        return Project.from_model(found) if found else None

    @strawberry.field(description="The rate card of the contract's version, in its currency.")
    async def rate_card(self, info: Info) -> RateCard | None:
        version, currency = self.model.rate_card_version, self.model.currency
        cards = await guarded(info, info.context.reference.rate_cards())
        found = next((c for c in cards if c.version == version and c.currency == currency), None)
        return RateCard.from_model(found) if found else None

    @strawberry.field
    async def assignments(self, info: Info) -> list[Assignment] | None:
        found = await guarded(info, info.context.loaders.assignments.load(self.model.key))
        return [Assignment.from_model(a) for a in found]

    @strawberry.field
    async def milestones(self, info: Info) -> list[Milestone] | None:
        found = await guarded(info, info.context.loaders.milestones.load(self.model.key))
        return [
            Milestone.from_model(m)
            for m in sorted(found, key=lambda m: (m.due_date or date.max, m.id))
        ]

    async def _delivered(
        self, loader: ManyBy[EngagementKey, TimeWindow, R], w: TimeWindow
    ) -> list[R]:
        """Recorded work, read only for an engagement in delivery (others have none)."""
        if self.model.status in _WITHOUT_PROJECT:
            return []
        return await loader.load(self.model.key, w)

    @strawberry.field(description="Newest first.")
    async def time_entries(
        self,
        info: Info,
        filter: TimeEntryFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[TimeEntry] | None:
        f = filter or TimeEntryFilter()
        window = TimeWindow(f.from_date, f.to_date, f.billed)
        found = await guarded(info, self._delivered(info.context.loaders.time_entries, window))
        rows = [
            t
            for t in found
            if (f.approval is None or t.approval is f.approval)
            and (f.billable is None or t.billable is f.billable)
        ]
        rows.sort(key=lambda t: (t.spent_date, t.id), reverse=True)
        page = _page(info, rows, first, after)
        return connection_from(page, TimeEntry.from_model)

    @strawberry.field(description="Newest first.")
    async def expenses(
        self,
        info: Info,
        filter: ExpenseFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Expense] | None:
        f = filter or ExpenseFilter()
        window = TimeWindow(f.from_date, f.to_date, None)
        found = await guarded(info, self._delivered(info.context.loaders.expenses, window))
        rows = [
            e
            for e in found
            if (f.billable is None or e.billable is f.billable)
            and (f.billed is None or e.billed is f.billed)
        ]
        rows.sort(key=lambda e: (e.spent_date, e.id), reverse=True)
        page = _page(info, rows, first, after)
        return connection_from(page, Expense.from_model)

    @strawberry.field(description="Newest first.")
    async def invoices(
        self,
        info: Info,
        filter: InvoiceFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Invoice] | None:
        f = filter or InvoiceFilter()
        found = (await guarded(info, ledger_of(info, self.model.key))).invoices
        rows = [
            i
            for i in found
            if (f.status is None or i.status is f.status)
            and (f.from_date is None or i.tran_date >= f.from_date)
            and (f.to_date is None or i.tran_date <= f.to_date)
        ]
        rows.sort(key=lambda i: (i.tran_date, i.id), reverse=True)
        page = _page(info, rows, first, after)
        return connection_from(page, Invoice.from_model)

    @strawberry.field
    async def payments(self, info: Info) -> list[Payment] | None:
        found = (await guarded(info, ledger_of(info, self.model.key))).payments
        return [Payment.from_model(p) for p in sorted(found, key=lambda p: (p.tran_date, p.id))]

    @strawberry.field
    async def billing_schedule(self, info: Info) -> BillingSchedule | None:
        found = await guarded(info, info.context.loaders.schedules.load(self.model.key))
        return BillingSchedule.from_model(found[0]) if found else None

    @strawberry.field(description="Each figure resolves alone: a system down nulls only its own.")
    async def financials(self, info: Info) -> Financials | None:
        currency = self.model.currency
        if currency is None:  # no deal amount: the legal entity's currency
            entities = await guarded(info, info.context.reference.legal_entities())
            code = self.model.legal_entity
            currency = next((e.currency for e in entities if e.code == code), None)
        return Financials(currency=currency, engagement=self.model) if currency else None

    @classmethod
    def from_model(cls, m: DomainEngagement) -> Engagement:
        return cls(
            node_key=m.key,
            name=m.name,
            billing_model=m.billing_model,
            service_line=m.service_line,
            rate_card_version=m.rate_card_version,
            currency=m.currency,
            close_date=m.close_date,
            model=m,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Engagement | None]:
        results: list[Engagement | None] = []
        for key in node_ids:
            found = (
                await load_engagement(info, EngagementKey(key)) if is_engagement_key(key) else None
            )
            results.append(cls.from_model(found) if found else None)
        return results

    @classmethod
    async def resolve_reference(cls, info: Info, key: object = None) -> Engagement | None:
        """Federation: the engagement a supergraph refers to by key; unknown → null."""
        if not isinstance(key, str) or not is_engagement_key(key):
            raise bad_input(f"not an engagement key: {key!r} (expected ENG-YYYY-NNNNN)", info)
        found = await guarded(info, load_engagement(info, EngagementKey(key)))
        return cls.from_model(found) if found else None


async def _by_ids(
    loader: One[RecordId, M], node_ids: Iterable[str], convert: Callable[[M], N]
) -> list[N | None]:
    """Nodes by their systems' ids through the request's loader, in order; missing → None."""
    found = await asyncio.gather(*(loader.load(RecordId(i)) for i in node_ids))
    return [convert(record) if record is not None else None for record in found]


async def _engagement_of(info: Info, key: EngagementKey | None) -> Engagement | None:
    if key is None:
        return None
    found = await guarded(info, load_engagement(info, key))
    return Engagement.from_model(found) if found else None


def _page(info: Info, rows: list[T], first: int | None, after: str | None) -> Page[T]:
    limit = info.context.options.max_page_size
    return checked(info, paginate, rows, first=first, after=after, max_page_size=limit)


@strawberry.type(description="A CRM opportunity: the deal behind an engagement.")
class Opportunity(relay.Node):
    node_key: relay.NodeID[str]
    name: str
    stage: str
    is_won: bool
    is_closed: bool
    close_date: date | None
    probability: int | None
    owner: str | None
    model: strawberry.Private[models.Opportunity]

    @strawberry.field(description="The CRM's own id.")
    def crm_id(self) -> str:
        return self.model.id

    @strawberry.field
    def amount(self) -> Money | None:
        return money(self.model.amount)

    @strawberry.field(description="What the CRM believes has been invoiced.")
    def invoiced_amount(self) -> Money | None:
        return money(self.model.invoiced_amount)

    @strawberry.field
    def engagement_key(self) -> str | None:
        return self.model.engagement_key

    @strawberry.field
    async def engagement(self, info: Info) -> Engagement | None:
        return await _engagement_of(info, self.model.engagement_key)

    @classmethod
    def from_model(cls, m: models.Opportunity) -> Opportunity:
        return cls(
            node_key=m.id,
            name=m.name,
            stage=m.stage,
            is_won=m.is_won,
            is_closed=m.is_closed,
            close_date=m.close_date,
            probability=m.probability,
            owner=m.owner,
            model=m,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Opportunity | None]:
        return await _by_ids(info.context.loaders.opportunity_by_id, node_ids, cls.from_model)


@strawberry.federation.type(keys=["id"], description="The delivery project in the PSA.")
class Project(relay.Node):
    node_key: relay.NodeID[str]
    name: str
    status: ProjectStatus
    start_date: date | None
    end_date: date | None
    archived: bool
    model: strawberry.Private[models.Project]

    @strawberry.field(description="The PSA's own id.")
    def psa_id(self) -> str:
        return self.model.id

    @strawberry.field
    def budget(self) -> Money | None:
        return money(self.model.budget)

    @strawberry.field
    def engagement_key(self) -> str | None:
        return self.model.engagement_key

    @strawberry.field
    async def engagement(self, info: Info) -> Engagement | None:
        return await _engagement_of(info, self.model.engagement_key)

    @classmethod
    def from_model(cls, m: models.Project) -> Project:
        return cls(
            node_key=m.id,
            name=m.name,
            status=m.status,
            start_date=m.start_date,
            end_date=m.end_date,
            archived=m.archived,
            model=m,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Project | None]:
        return await _by_ids(info.context.loaders.project_by_id, node_ids, cls.from_model)

    @classmethod
    async def resolve_reference(cls, info: Info, id: object = None) -> Project | None:
        """Federation: the project a supergraph refers to by global id; unknown → null."""
        node_id = checked(info, node_id_from_global, id, "Project")
        found = await guarded(info, cls.resolve_nodes(info=info, node_ids=[node_id]))
        return found[0]


@strawberry.federation.type(keys=["id"], description="An invoice posted in the ERP.")
class Invoice(relay.Node):
    node_key: relay.NodeID[str]
    external_id: str | None
    tran_id: str | None
    tran_date: date
    due_date: date | None
    status: InvoiceStatus
    memo: str | None
    model: strawberry.Private[models.Invoice]

    @strawberry.field(description="The ERP's own id.")
    def erp_id(self) -> str:
        return self.model.id

    @strawberry.field
    def total(self) -> Money:
        return Money.from_model(self.model.total)

    @strawberry.field
    def amount_remaining(self) -> Money:
        return Money.from_model(self.model.amount_remaining)

    @strawberry.field
    def engagement_key(self) -> str | None:
        return self.model.engagement_key

    @strawberry.field(description="Read on demand: asking for lines costs one ERP call per level.")
    async def lines(self, info: Info) -> list[InvoiceLine] | None:
        lines = self.model.lines
        if not lines:
            loader = info.context.loaders.invoice_lines
            lines = await guarded(info, loader.load(self.model.id, self.model.total.currency))
        return [InvoiceLine.from_model(line) for line in lines]

    @strawberry.field
    async def engagement(self, info: Info) -> Engagement | None:
        return await _engagement_of(info, self.model.engagement_key)

    @classmethod
    def from_model(cls, m: models.Invoice) -> Invoice:
        return cls(
            node_key=m.id,
            external_id=m.external_id,
            tran_id=m.tran_id,
            tran_date=m.tran_date,
            due_date=m.due_date,
            status=m.status,
            memo=m.memo,
            model=m,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Invoice | None]:
        return await _by_ids(info.context.loaders.invoice_by_id, node_ids, cls.from_model)

    @classmethod
    async def resolve_reference(cls, info: Info, id: object = None) -> Invoice | None:
        """Federation: the invoice a supergraph refers to by global id; unknown → null."""
        node_id = checked(info, node_id_from_global, id, "Invoice")
        found = await guarded(info, cls.resolve_nodes(info=info, node_ids=[node_id]))
        return found[0]
