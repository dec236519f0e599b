"""An engagement's money position, derived from the canonical records.

The rules (see `domain.engagement.Financials` for the meaning of each figure):

- time & materials: unbilled WIP is the billable time and expenses recorded
  but not yet invoiced (the time-tracking system's uninvoiced figures);
- milestone, and fixed fee with milestones: accepted milestones' value less
  what has been billed;
- fixed fee without milestones, retainer, subscription: billing-schedule
  amounts due by `as_of` less what has been billed;
- approved billable value = billed to date + unbilled WIP, so
  ``billed + unbilled WIP == approved billable value`` holds by construction.

Everything is in the engagement's currency; a record in another currency is
an error (`CurrencyMismatch`), never converted silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain.engagement import Engagement, EngagementStatus, Financials
from domain.models import (
    BillingModel,
    BillingSchedule,
    Invoice,
    Milestone,
    MilestoneState,
    Payment,
    UninvoicedWork,
)
from domain.money import Money

__all__ = [
    "FinancialInputs",
    "FinancialNeeds",
    "billed_to_date",
    "collected",
    "compute_financials",
    "financial_needs",
    "outstanding",
    "unbilled_wip",
]


@dataclass(frozen=True, slots=True)
class FinancialInputs:
    invoices: Sequence[Invoice] = ()
    payments: Sequence[Payment] = ()
    milestones: Sequence[Milestone] = ()
    schedules: Sequence[BillingSchedule] = ()
    uninvoiced: UninvoicedWork | None = None


@dataclass(frozen=True, slots=True)
class FinancialNeeds:
    """Which records beyond invoices and payments an engagement's figures depend on."""

    uninvoiced: bool = False
    milestones: bool = False
    schedules: bool = False


def financial_needs(engagement: Engagement) -> FinancialNeeds:
    """Only what the billing model's WIP rule reads, so nothing else is fetched.

    A deal not yet won, lost, or won but never activated has no work in
    progress to read. An engagement whose status is unknown (the PSA could not
    be asked) is read as if delivered: its WIP is either found or fails loudly,
    never a silent zero.
    """
    if engagement.status in (
        EngagementStatus.QUALIFYING,
        EngagementStatus.LOST,
        EngagementStatus.WON,
    ):
        return FinancialNeeds()
    model = engagement.billing_model
    return FinancialNeeds(
        uninvoiced=model is BillingModel.TIME_AND_MATERIALS,
        milestones=model in (BillingModel.MILESTONE, BillingModel.FIXED_FEE),
        schedules=model
        in (BillingModel.FIXED_FEE, BillingModel.RETAINER, BillingModel.SUBSCRIPTION),
    )


def _currency(engagement: Engagement, inputs: FinancialInputs, fallback: str) -> str:
    """The deal's currency; else its invoices'; else the legal entity's (`fallback`)."""
    if engagement.currency:
        return engagement.currency
    for invoice in inputs.invoices:
        return invoice.total.currency
    return fallback


def _not_negative(value: Money) -> Money:
    return value if value.amount >= 0 else Money.zero(value.currency)


def _wip(
    engagement: Engagement, inputs: FinancialInputs, billed: Money, as_of: date, cur: str
) -> Money:
    model = engagement.billing_model
    if model is BillingModel.TIME_AND_MATERIALS:
        work = inputs.uninvoiced
        if work is None:
            return Money.zero(cur)
        return work.time_amount + work.expense_amount
    priced = [m for m in inputs.milestones if m.amount is not None]
    if model is BillingModel.MILESTONE or (model is BillingModel.FIXED_FEE and priced):
        accepted = [m.amount for m in priced if m.state is MilestoneState.ACCEPTED and m.amount]
        return _not_negative(Money.sum(accepted, cur) - billed)
    due = [
        line.amount
        for schedule in inputs.schedules
        for line in schedule.lines
        if line.amount is not None and line.date <= as_of
    ]
    return _not_negative(Money.sum(due, cur) - billed)


def billed_to_date(invoices: Sequence[Invoice], currency: str) -> Money:
    return Money.sum([i.total for i in invoices], currency)


def collected(payments: Sequence[Payment], currency: str) -> Money:
    return Money.sum([p.amount for p in payments], currency)


def outstanding(invoices: Sequence[Invoice], currency: str) -> Money:
    return Money.sum([i.amount_remaining for i in invoices], currency)


def unbilled_wip(
    engagement: Engagement, inputs: FinancialInputs, as_of: date, currency: str
) -> Money:
    return _wip(engagement, inputs, billed_to_date(inputs.invoices, currency), as_of, currency)


def compute_financials(
    engagement: Engagement, inputs: FinancialInputs, as_of: date, fallback_currency: str
) -> Financials:
    """Every figure at once (each is also available alone, for partial results)."""
    cur = _currency(engagement, inputs, fallback_currency)
    billed = billed_to_date(inputs.invoices, cur)
    wip = _wip(engagement, inputs, billed, as_of, cur)
    return Financials(
        currency=cur,
        booked_value=engagement.booked_value or Money.zero(cur),
        approved_billable_value=billed + wip,
        billed_to_date=billed,
        unbilled_wip=wip,
        collected=collected(inputs.payments, cur),
        outstanding=outstanding(inputs.invoices, cur),
    )
