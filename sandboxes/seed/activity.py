"""Delivery: a year of time entries and expenses, logged day by day by the staff.

Each weekday every person with a live assignment books their day to one or two
engagements (weighted by allocation). Time on time-and-materials engagements is
billable (bar internal tasks); on fee-based engagements it is tracked but not
billable, since the fee, not the hours, is invoiced. Likewise expenses are
billable pass-through on time-and-materials engagements and included in the fee
otherwise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sandboxes.firm import Assignment, Engagement, Expense, Person, TimeEntry

from .dates import AS_OF, BILLED_THROUGH, DATA_START, invoice_key, month_start, weekdays
from .reference import CENT, CURRENCY_FACTOR
from .staffing import RateLookup

__all__ = ["APPROVED_THROUGH", "RawTime", "build_activity", "finalize_time"]

# Approvals lag: the last two and a half weeks are still awaiting approval.
APPROVED_THROUGH = AS_OF - timedelta(days=17)
_EXPENSES_APPROVED_THROUGH = AS_OF - timedelta(days=10)
_QUARTERS = [(Decimal(q) / 4).quantize(CENT) for q in range(64)]
_TASKS: dict[str, tuple[str, ...]] = {
    "STRATEGY": ("Stakeholder interviews", "Workshops", "Analysis", "Report writing"),
    "CLOUD": ("Architecture", "Migration", "Infrastructure as code", "Testing"),
    "DATA": ("Data modelling", "Pipeline development", "Dashboarding", "Data quality"),
    "SECURITY": ("Assessment", "Penetration testing", "Policy review", "Remediation support"),
    "MANAGED_SERVICES": ("Monitoring", "Incident response", "Patching", "Service review"),
}
_INTERNAL_TASKS = ("Internal review", "Pre-sales support")
_NOTES = ("", "", "On site", "Remote", "Follow-up actions", "Prep for client review")
# category, (low, high) in USD, weight
_EXPENSE_KINDS: tuple[tuple[str, tuple[int, int], int], ...] = (
    ("Travel", (150, 900), 30),
    ("Lodging", (120, 320), 25),
    ("Meals", (15, 85), 35),
    ("Software", (20, 300), 10),
)
_EXPENSE_WEIGHTS = [weight for _, _, weight in _EXPENSE_KINDS]


@dataclass(frozen=True, slots=True)
class RawTime:
    """A logged time entry before rates and billing are applied."""

    key: str
    engagement_key: str
    person: str
    role: str
    spent_date: date
    hours: Decimal
    billable: bool
    task: str
    notes: str


def _day_split(rng: random.Random, capacity: int, live: list[Assignment]) -> list[tuple[int, int]]:
    """(index into ``live``, quarter hours) for one person's day."""
    daily = capacity * 4 // 5
    weights = [a.allocation_percent for a in live]
    if len(live) > 1 and rng.random() < 0.3:
        first = rng.choices(range(len(live)), weights)[0]
        second = rng.choice([i for i in range(len(live)) if i != first])
        quarters = rng.randint(8, daily - 8)
        return [(first, quarters), (second, daily - quarters + rng.choice((-1, 0, 0, 1)))]
    only = rng.choices(range(len(live)), weights)[0]
    return [(only, daily + rng.choice((-4, -2, -1, 0, 0, 0, 1, 2)))]


def build_activity(
    rng: random.Random,
    people: list[Person],
    engagements: list[Engagement],
    assignments: list[Assignment],
) -> tuple[list[RawTime], list[Expense]]:
    by_key = {e.key: e for e in engagements}
    by_person: dict[str, list[Assignment]] = {p.key: [] for p in people}
    for assignment in assignments:
        by_person[assignment.person].append(assignment)
    times: list[RawTime] = []
    expenses: list[Expense] = []
    for day in weekdays(DATA_START, AS_OF):
        for person in people:
            live = [a for a in by_person[person.key] if a.start_date <= day <= a.end_date]
            if not live or rng.random() < 0.08:
                continue
            for slot, (index, quarters) in enumerate(
                _day_split(rng, person.weekly_capacity_hours, live)
            ):
                assignment = live[index]
                engagement = by_key[assignment.engagement_key]
                billable = engagement.billing_model == "TIME_AND_MATERIALS"
                if assignment.role in ("Partner", "Principal"):
                    task = "Project management"
                else:
                    task = rng.choice(_TASKS[engagement.service_line])
                if billable and rng.random() < 0.05:
                    billable, task = False, rng.choice(_INTERNAL_TASKS)
                times.append(
                    RawTime(
                        key=f"TE-{len(times) + 1:06d}",
                        engagement_key=engagement.key,
                        person=person.key,
                        role=assignment.role,
                        spent_date=day,
                        hours=_QUARTERS[quarters],
                        billable=billable,
                        task=task,
                        notes=rng.choice(_NOTES),
                    )
                )
                if slot == 0 and rng.random() < (0.1 if billable else 0.06):
                    expenses.append(_expense(rng, len(expenses) + 1, engagement, person, day))
    return times, expenses


def _expense(
    rng: random.Random, number: int, engagement: Engagement, person: Person, day: date
) -> Expense:
    category, (low, high), _ = rng.choices(_EXPENSE_KINDS, _EXPENSE_WEIGHTS)[0]
    usd = Decimal(rng.randint(low * 100, high * 100)) / 100
    amount = (usd * CURRENCY_FACTOR[engagement.currency]).quantize(CENT)
    billable = engagement.billing_model == "TIME_AND_MATERIALS" and rng.random() < 0.92
    approved = day <= _EXPENSES_APPROVED_THROUGH
    billed = billable and approved and day <= BILLED_THROUGH
    return Expense(
        key=f"EX-{number:05d}",
        engagement_key=engagement.key,
        person=person.key,
        spent_date=day,
        amount=amount,
        currency=engagement.currency,
        category=category,
        billable=billable,
        approved=approved,
        invoice=invoice_key(engagement.key, month_start(day)) if billed else None,
        notes=f"{category} - {engagement.name}",
    )


def finalize_time(
    raw: list[RawTime],
    people: list[Person],
    engagements: list[Engagement],
    rates: RateLookup,
    wrong_version: dict[str, str],
    unbilled: frozenset[str],
) -> list[TimeEntry]:
    """Price and bill the logged time.

    Approved billable time on a time-and-materials engagement in a closed month
    is on that month's invoice, at the engagement's rate card version, except the
    entries in ``unbilled`` (left off) and in ``wrong_version`` (priced at another
    version): the planted discrepancies.
    """
    cost = {p.key: p.cost_rate for p in people}
    by_key = {e.key: e for e in engagements}
    entries: list[TimeEntry] = []
    for row in raw:
        engagement = by_key[row.engagement_key]
        version = wrong_version.get(row.key, engagement.rate_card_version)
        approved = row.spent_date <= APPROVED_THROUGH
        billed = (
            row.billable
            and approved
            and row.spent_date <= BILLED_THROUGH
            and row.key not in unbilled
        )
        entries.append(
            TimeEntry(
                key=row.key,
                engagement_key=row.engagement_key,
                person=row.person,
                spent_date=row.spent_date,
                hours=row.hours,
                billable=row.billable,
                approved=approved,
                invoice=invoice_key(row.engagement_key, row.spent_date) if billed else None,
                bill_rate=rates[(version, row.role, engagement.currency)],
                rate_card_version=version,
                cost_rate=cost[row.person],
                task=row.task,
                notes=row.notes,
            )
        )
    return entries
