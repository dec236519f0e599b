"""The demo firm's calendar: a fixed twelve-month window ending on ``AS_OF``."""

from __future__ import annotations

from datetime import date, timedelta

__all__ = [
    "AS_OF",
    "BILLED_THROUGH",
    "DATA_START",
    "add_months",
    "billing_months",
    "count_weekdays",
    "invoice_key",
    "month_end",
    "month_key",
    "month_start",
    "weekdays",
]

AS_OF = date(2026, 10, 31)
DATA_START = date(2025, 11, 1)
# Invoices are raised at month end for closed months; October 2026 is still open.
BILLED_THROUGH = date(2026, 9, 30)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return add_months(day, 1) - timedelta(days=1)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def billing_months() -> list[date]:
    """First days of the months that have been invoiced: DATA_START .. BILLED_THROUGH."""
    months: list[date] = []
    current = DATA_START
    while current <= BILLED_THROUGH:
        months.append(current)
        current = add_months(current, 1)
    return months


def weekdays(start: date, end: date) -> list[date]:
    """Monday-to-Friday dates in ``[start, end]``."""
    days: list[date] = []
    current = start
    one = timedelta(days=1)
    while current <= end:
        if current.weekday() < 5:
            days.append(current)
        current += one
    return days


def count_weekdays(start: date, end: date) -> int:
    """Number of Monday-to-Friday dates in ``[start, end]``, in constant time."""
    if end < start:
        return 0
    full_weeks, rest = divmod((end - start).days + 1, 7)
    first = start.weekday()
    return full_weeks * 5 + sum(1 for offset in range(rest) if (first + offset) % 7 < 5)


def invoice_key(engagement_key: str, day: date) -> str:
    """The ERP externalId of an engagement's invoice for ``day``'s month."""
    return f"INV-{engagement_key}-{month_key(day)}"
