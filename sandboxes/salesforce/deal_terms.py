"""Deal terms the CRM holds beyond the firm's opportunity facts, derived without randomness.

The contracted delivery window (``Start_Date__c``/``End_Date__c``): a won deal
with an engagement uses the engagement's dates; any other deal starts two
weeks after its close date and runs a number of months set by its billing
model, ending the day before that many months have passed. Open milestone
deals carry three ``OpportunityLineItem`` records that split the amount (in
cents, the last line taking the remainder) at service dates spread evenly
over the window. Nothing here draws from the seed's random generator, so the
firm itself is unchanged.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from sandboxes.firm import Firm, Opportunity

__all__ = ["MILESTONE_LINES", "WINDOW_MONTHS", "add_months", "delivery_windows", "line_plan"]

WINDOW_MONTHS: dict[str, int] = {
    "TIME_AND_MATERIALS": 6,
    "FIXED_FEE": 4,
    "MILESTONE": 6,
    "RETAINER": 12,
    "SUBSCRIPTION": 12,
}
START_AFTER_CLOSE = timedelta(days=14)
MILESTONE_LINES: tuple[str, ...] = ("Discovery sign-off", "Build complete", "Go-live")


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _derived(opportunity: Opportunity) -> tuple[date, date]:
    start = opportunity.close_date + START_AFTER_CLOSE
    months = WINDOW_MONTHS[opportunity.billing_model]
    return start, add_months(start, months) - timedelta(days=1)


def delivery_windows(firm: Firm) -> dict[str, tuple[date, date]]:
    """Opportunity key -> (start, end) of its contracted delivery window."""
    engaged = {e.opportunity: (e.start_date, e.end_date) for e in firm.engagements}
    return {o.key: engaged.get(o.key) or _derived(o) for o in firm.opportunities}


def line_plan(amount: Decimal, start: date, end: date) -> list[tuple[str, date, Decimal]]:
    """(description, service date, amount) of an open milestone deal's three lines."""
    cents = int((amount * 100).to_integral_value())
    count = len(MILESTONE_LINES)
    share = cents // count
    span = (end - start).days
    lines = []
    for index, description in enumerate(MILESTONE_LINES, start=1):
        part = share if index < count else cents - share * (count - 1)
        when = start + timedelta(days=round(span * index / count))
        lines.append((description, when, Decimal(part) / 100))
    return lines
