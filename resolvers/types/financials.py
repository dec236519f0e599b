"""An engagement's financial figures as GraphQL fields, each resolving alone.

A system that is down nulls only the figures that need it: billed, collected
and outstanding need the ERP ledger; unbilled WIP (and so approved billable
value) needs what the billing model's WIP rule reads (time tracking, PSA
milestones or ERP billing schedules). The arithmetic is in workflows/.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import strawberry

from domain.engagement import Engagement as DomainEngagement
from domain.ids import EngagementKey
from resolvers.context import Info
from resolvers.errors import checked, guarded
from resolvers.loaders import EngagementLedger
from resolvers.types.common import Money
from workflows.financials import (
    FinancialInputs,
    billed_to_date,
    collected,
    financial_needs,
    outstanding,
    unbilled_wip,
)

__all__ = ["Financials", "ledger_of"]


async def ledger_of(info: Info, key: EngagementKey) -> EngagementLedger:
    found = await info.context.loaders.ledger.load(key)
    return found or EngagementLedger(key, (), ())


async def _empty() -> list[Any]:
    return []


async def _nothing() -> None:
    return None


async def _wip_inputs(info: Info, engagement: DomainEngagement) -> FinancialInputs:
    loaders, key = info.context.loaders, engagement.key
    needs = financial_needs(engagement)
    ledger, milestones, schedules, uninvoiced = await asyncio.gather(
        ledger_of(info, key),
        loaders.milestones.load(key) if needs.milestones else _empty(),
        loaders.schedules.load(key) if needs.schedules else _empty(),
        loaders.uninvoiced.load(key) if needs.uninvoiced else _nothing(),
    )
    return FinancialInputs(ledger.invoices, ledger.payments, milestones, schedules, uninvoiced)


@strawberry.type(description="An engagement's money position, in the engagement's currency.")
class Financials:
    currency: str
    engagement: strawberry.Private[DomainEngagement]

    async def _ledger(self, info: Info) -> EngagementLedger:
        return await guarded(info, ledger_of(info, self.engagement.key))

    async def _wip(self, info: Info) -> Money:
        inputs = await guarded(info, _wip_inputs(info, self.engagement))
        today = info.context.options.today()
        return Money.from_model(
            checked(info, unbilled_wip, self.engagement, inputs, today, self.currency)
        )

    @strawberry.field(description="The won deal's amount (CRM).")
    def booked_value(self) -> Money:
        booked = self.engagement.booked_value
        return (
            Money.from_model(booked) if booked else Money(amount=Decimal(0), currency=self.currency)
        )

    @strawberry.field(description="Total of posted invoices (ERP).")
    async def billed_to_date(self, info: Info) -> Money | None:
        ledger = await self._ledger(info)
        return Money.from_model(checked(info, billed_to_date, ledger.invoices, self.currency))

    @strawberry.field(description="Approved billable work not yet invoiced.")
    async def unbilled_wip(self, info: Info) -> Money | None:
        return await self._wip(info)

    @strawberry.field(description="billedToDate + unbilledWip.")
    async def approved_billable_value(self, info: Info) -> Money | None:
        ledger = await self._ledger(info)
        billed = checked(info, billed_to_date, ledger.invoices, self.currency)
        wip = await self._wip(info)
        return Money(amount=billed.amount + wip.amount, currency=self.currency)

    @strawberry.field(description="Payments received (ERP).")
    async def collected(self, info: Info) -> Money | None:
        ledger = await self._ledger(info)
        return Money.from_model(checked(info, collected, ledger.payments, self.currency))

    @strawberry.field(description="What invoices still have open (ERP).")
    async def outstanding(self, info: Info) -> Money | None:
        ledger = await self._ledger(info)
        return Money.from_model(checked(info, outstanding, ledger.invoices, self.currency))
