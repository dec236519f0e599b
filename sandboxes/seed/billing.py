"""Billing: schedules per engagement, monthly invoices built from billed inputs, payments.

The billing rules (the contract the sandboxes and the reconciliation rely on):

* an invoice is ``INV-<engagement>-<YYYY-MM>``, dated the month's last day, due
  thirty days later, raised for closed months only (up to ``BILLED_THROUGH``);
* time-and-materials: one SERVICES line per role and rate, quantity = hours,
  sources = the time entries; every input names its invoice, and is on one only;
* MILESTONE (and FIXED_FEE with milestones): one line per accepted milestone;
* FIXED_FEE without milestones: the FIXED schedule's instalments of the month;
* RETAINER / SUBSCRIPTION: the monthly fee of every month the engagement runs;
* billable, approved expenses: one EXPENSE line per category, on every model;
* line amounts are rounded half-even to cents; a total is the sum of its lines.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from sandboxes.firm import (
    BillingSchedule,
    BillingScheduleLine,
    Engagement,
    Expense,
    Invoice,
    InvoiceLine,
    Milestone,
    Payment,
    Person,
    TimeEntry,
)

from .dates import AS_OF, BILLED_THROUGH, add_months, invoice_key, month_end, month_key
from .reference import ROLES, money

__all__ = ["build_invoices", "build_schedules", "settle"]

_ZERO = Decimal("0.00")
_ONE = Decimal(1)
_FEE_ITEM: dict[str, Literal["RETAINER", "SUBSCRIPTION", "FIXED_FEE"]] = {
    "RETAINER": "RETAINER",
    "SUBSCRIPTION": "SUBSCRIPTION",
    "FIXED_FEE": "FIXED_FEE",
}


def _month_ends(start: date, end: date) -> list[date]:
    ends: list[date] = []
    current = start.replace(day=1)
    while current <= end:
        ends.append(month_end(current))
        current = add_months(current, 1)
    return ends


def _split(total: Decimal, parts: int) -> list[Decimal]:
    share = money(total / parts)
    return [share] * (parts - 1) + [total - share * (parts - 1)]


def build_schedules(
    engagements: list[Engagement], milestones: list[Milestone]
) -> dict[str, BillingSchedule]:
    """The billing schedule each activated engagement was set up with, by engagement key."""
    by_engagement: dict[str, list[Milestone]] = defaultdict(list)
    for milestone in milestones:
        by_engagement[milestone.engagement_key].append(milestone)
    schedules: dict[str, BillingSchedule] = {}
    for e in engagements:
        if "netsuite" not in e.present_in:
            continue
        ends = _month_ends(e.start_date, e.end_date)
        own = by_engagement.get(e.key, [])
        if own:
            lines = tuple(BillingScheduleLine(m.due_date, m.amount, m.title) for m in own)
            kind: Literal["PERIODIC", "FIXED", "MILESTONE", "RECURRING"] = (
                "MILESTONE" if e.billing_model == "MILESTONE" else "FIXED"
            )
            schedules[e.key] = BillingSchedule(e.key, kind, "NONE", lines)
            continue
        if e.billing_model in ("RETAINER", "SUBSCRIPTION"):
            assert e.monthly_fee is not None
            fee = e.monthly_fee
            lines = tuple(
                BillingScheduleLine(day, fee, f"{e.billing_model.title()} fee {month_key(day)}")
                for day in ends
            )
            schedules[e.key] = BillingSchedule(e.key, "RECURRING", "MONTHLY", lines)
            continue
        amounts = _split(e.contract_value, len(ends))
        if e.billing_model == "FIXED_FEE":
            lines = tuple(
                BillingScheduleLine(day, amount, f"Fixed fee instalment {n} of {len(ends)}")
                for n, (day, amount) in enumerate(zip(ends, amounts, strict=True), start=1)
            )
            schedules[e.key] = BillingSchedule(e.key, "FIXED", "MONTHLY", lines)
        else:
            lines = tuple(
                BillingScheduleLine(day, amount, f"Time & materials estimate {month_key(day)}")
                for day, amount in zip(ends, amounts, strict=True)
            )
            schedules[e.key] = BillingSchedule(e.key, "PERIODIC", "MONTHLY", lines)
    return schedules


@dataclass(slots=True)
class _Draft:
    engagement: Engagement
    month: date
    hours: dict[tuple[str, Decimal], list[TimeEntry]] = field(default_factory=dict)
    fees: list[InvoiceLine] = field(default_factory=list)
    expenses: dict[str, list[Expense]] = field(default_factory=dict)


def build_invoices(
    engagements: list[Engagement],
    schedules: dict[str, BillingSchedule],
    milestones: list[Milestone],
    time_entries: list[TimeEntry],
    expenses: list[Expense],
    people: list[Person],
) -> list[Invoice]:
    """Open invoices (no payments yet) for every input that names an invoice."""
    by_key = {e.key: e for e in engagements}
    role = {p.key: p.role for p in people}
    drafts: dict[str, _Draft] = {}

    def draft(engagement_key: str, day: date) -> _Draft:
        key = invoice_key(engagement_key, day)
        if key not in drafts:
            drafts[key] = _Draft(by_key[engagement_key], day.replace(day=1))
        return drafts[key]

    for entry in time_entries:
        if entry.invoice is not None:
            bucket = draft(entry.engagement_key, entry.spent_date).hours
            bucket.setdefault((role[entry.person], entry.bill_rate), []).append(entry)
    for milestone in milestones:
        if milestone.invoice is not None:
            engagement = by_key[milestone.engagement_key]
            item: Literal["MILESTONE", "FIXED_FEE"] = (
                "MILESTONE" if engagement.billing_model == "MILESTONE" else "FIXED_FEE"
            )
            line = InvoiceLine(
                milestone.title, item, _ONE, milestone.amount, milestone.amount, (milestone.key,)
            )
            draft(engagement.key, milestone.due_date).fees.append(line)
    for key, schedule in schedules.items():
        engagement = by_key[key]
        if schedule.kind not in ("RECURRING", "FIXED") or schedule.frequency != "MONTHLY":
            continue
        fee_item = _FEE_ITEM[engagement.billing_model]
        for due in schedule.lines:
            if due.date <= BILLED_THROUGH:
                line = InvoiceLine(due.description, fee_item, _ONE, due.amount, due.amount, ())
                draft(key, due.date).fees.append(line)
    for expense in expenses:
        if expense.invoice is not None:
            bucket_x = draft(expense.engagement_key, expense.spent_date).expenses
            bucket_x.setdefault(expense.category, []).append(expense)
    invoices = [_invoice(key, d) for key, d in drafts.items()]
    invoices.sort(key=lambda inv: (inv.period_start, inv.engagement_key))
    return invoices


_ROLE_ORDER = {name: index for index, name in enumerate(ROLES)}


def _by_role_and_rate(item: tuple[tuple[str, Decimal], list[TimeEntry]]) -> tuple[int, Decimal]:
    (role, rate), _ = item
    return _ROLE_ORDER[role], rate


def _invoice(key: str, d: _Draft) -> Invoice:
    period = month_key(d.month)
    lines: list[InvoiceLine] = []
    for (role, rate), entries in sorted(d.hours.items(), key=_by_role_and_rate):
        hours = sum((t.hours for t in entries), _ZERO)
        lines.append(
            InvoiceLine(
                f"{role} services {period}",
                "SERVICES",
                hours,
                rate,
                money(hours * rate),
                tuple(t.key for t in entries),
            )
        )
    lines.extend(d.fees)
    for category in sorted(d.expenses):
        items = d.expenses[category]
        amount = money(sum((x.amount for x in items), _ZERO))
        lines.append(
            InvoiceLine(
                f"{category} expenses {period}",
                "EXPENSE",
                _ONE,
                amount,
                amount,
                tuple(x.key for x in items),
            )
        )
    total = sum((line.amount for line in lines), _ZERO)
    e = d.engagement
    tran_date = month_end(d.month)
    return Invoice(
        key=key,
        engagement_key=e.key,
        customer=e.customer,
        legal_entity=e.legal_entity,
        currency=e.currency,
        tran_date=tran_date,
        due_date=tran_date + timedelta(days=30),
        period_start=d.month,
        period_end=tran_date,
        lines=tuple(lines),
        total=total,
        amount_remaining=total,
        status="open",
    )


def settle(rng: random.Random, invoices: list[Invoice]) -> tuple[list[Invoice], list[Payment]]:
    """Customers pay most invoices older than 45 days in full, a few in part; recent are open."""
    settled: list[Invoice] = []
    payments: list[Payment] = []
    for invoice in invoices:
        paid = _ZERO
        draw = rng.random()
        if invoice.tran_date <= AS_OF - timedelta(days=45):
            if draw < 0.9:
                paid = invoice.total
            elif draw < 0.93:
                paid = money(invoice.total * rng.choice((30, 40, 50, 60)) / 100)
        elif draw < 0.25:
            paid = invoice.total
        if paid:
            latest = (AS_OF - invoice.tran_date).days
            day = invoice.tran_date + timedelta(days=min(rng.randint(12, 45), latest))
            payments.append(
                Payment(
                    key=f"PAY-{len(payments) + 1:05d}",
                    invoice=invoice.key,
                    customer=invoice.customer,
                    date=day,
                    amount=paid,
                    currency=invoice.currency,
                )
            )
        remaining = invoice.total - paid
        status: Literal["open", "paid"] = "paid" if remaining == 0 else "open"
        settled.append(replace(invoice, amount_remaining=remaining, status=status))
    return settled, payments
