"""Billing types: invoice lines, payments, billing schedules, financials."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from domain import models
from domain.ids import RecordId
from domain.models import BillingScheduleKind, InvoiceStatus
from resolvers.context import Info
from resolvers.errors import guarded
from resolvers.types.common import Money, money

__all__ = [
    "BillingSchedule",
    "BillingScheduleLine",
    "InvoiceFilter",
    "InvoiceLine",
    "Payment",
]


@strawberry.type
class InvoiceLine:
    description: str
    item: str
    quantity: Decimal
    rate: Money
    amount: Money
    sources: list[str] = strawberry.field(description="Billing inputs this line bills.")

    @classmethod
    def from_model(cls, m: models.InvoiceLine) -> InvoiceLine:
        return cls(
            description=m.description,
            item=m.item,
            quantity=m.quantity,
            rate=Money.from_model(m.rate),
            amount=Money.from_model(m.amount),
            sources=list(m.sources),
        )


@strawberry.type
class Payment:
    id: strawberry.ID
    external_id: str | None
    tran_date: date
    amount: Money
    known_invoice_ids: strawberry.Private[tuple[str, ...]]

    @strawberry.field(description="ERP ids of the invoices the payment was applied to.")
    async def invoice_ids(self, info: Info) -> list[strawberry.ID] | None:
        ids: tuple[str, ...] = self.known_invoice_ids
        if not ids:
            loader = info.context.loaders.applications
            found = await guarded(info, loader.load(RecordId(str(self.id))))
            ids = found.invoice_ids if found else ()
        return [strawberry.ID(i) for i in ids]

    @classmethod
    def from_model(cls, m: models.Payment) -> Payment:
        return cls(
            id=strawberry.ID(m.id),
            external_id=m.external_id,
            tran_date=m.tran_date,
            amount=Money.from_model(m.amount),
            known_invoice_ids=tuple(m.invoice_ids),
        )


@strawberry.type
class BillingScheduleLine:
    date: date
    amount: Money | None
    description: str


@strawberry.type
class BillingSchedule:
    id: strawberry.ID
    kind: BillingScheduleKind
    frequency: str
    lines: list[BillingScheduleLine]

    @classmethod
    def from_model(cls, m: models.BillingSchedule) -> BillingSchedule:
        return cls(
            id=strawberry.ID(m.id),
            kind=m.kind,
            frequency=m.frequency,
            lines=[
                BillingScheduleLine(
                    date=line.date, amount=money(line.amount), description=line.description
                )
                for line in m.lines
            ],
        )


@strawberry.input(description="Narrows an engagement's invoices.")
class InvoiceFilter:
    status: InvoiceStatus | None = None
    from_date: date | None = strawberry.field(default=None, name="from")
    to_date: date | None = strawberry.field(default=None, name="to")
