"""The billing schedule a won deal is set up with (pure).

* TIME_AND_MATERIALS: PERIODIC, monthly estimates splitting the deal amount;
* FIXED_FEE: FIXED, the deal's dated lines if it has any, else monthly
  instalments splitting the amount;
* MILESTONE: MILESTONE, one line per dated deal line (each a PSA milestone);
* RETAINER / SUBSCRIPTION: RECURRING, the monthly fee (amount / months) every month.

Splits are rounded half-even to the minor unit; the last part takes the rest,
so the lines always sum to the deal amount.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from domain.models import BillingModel, BillingScheduleKind, BillingScheduleLine, OpportunityLine
from domain.money import Money

__all__ = ["month_ends", "plan_schedule", "split"]


def month_ends(start: date, end: date) -> list[date]:
    """The last day of every month from `start`'s to `end`'s."""
    ends: list[date] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        ends.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ends


def split(total: Money, parts: int) -> list[Money]:
    """`total` in `parts` rounded shares; the last takes the remainder."""
    share = Money(amount=total.amount / parts, currency=total.currency).rounded()
    rest = total.amount - share.amount * (parts - 1)
    return [share] * (parts - 1) + [Money(amount=rest, currency=total.currency)]


def plan_schedule(
    model: BillingModel,
    amount: Money,
    start: date,
    end: date,
    lines: Sequence[OpportunityLine],
) -> tuple[BillingScheduleKind, str, tuple[BillingScheduleLine, ...]]:
    """(kind, frequency, lines) of the billing schedule for a deal."""
    ends = month_ends(start, end) or [end]
    if model is BillingModel.MILESTONE or (model is BillingModel.FIXED_FEE and lines):
        kind = (
            BillingScheduleKind.MILESTONE
            if model is BillingModel.MILESTONE
            else BillingScheduleKind.FIXED
        )
        dated = tuple(
            BillingScheduleLine(
                date=line.service_date or end, amount=line.amount, description=line.description
            )
            for line in sorted(lines, key=lambda x: (x.service_date or end, x.id))
        )
        return kind, "NONE", dated
    if model in (BillingModel.RETAINER, BillingModel.SUBSCRIPTION):
        fee = Money(amount=amount.amount / Decimal(len(ends)), currency=amount.currency).rounded()
        label = model.value.title()
        return (
            BillingScheduleKind.RECURRING,
            "MONTHLY",
            tuple(
                BillingScheduleLine(date=day, amount=fee, description=f"{label} fee {day:%Y-%m}")
                for day in ends
            ),
        )
    shares = split(amount, len(ends))
    if model is BillingModel.FIXED_FEE:
        return (
            BillingScheduleKind.FIXED,
            "MONTHLY",
            tuple(
                BillingScheduleLine(
                    date=day, amount=share, description=f"Fixed fee instalment {n} of {len(ends)}"
                )
                for n, (day, share) in enumerate(zip(ends, shares, strict=True), start=1)
            ),
        )
    return (
        BillingScheduleKind.PERIODIC,
        "MONTHLY",
        tuple(
            BillingScheduleLine(
                date=day, amount=share, description=f"Time & materials estimate {day:%Y-%m}"
            )
            for day, share in zip(ends, shares, strict=True)
        ),
    )
