"""Staffing: who works on an engagement, at what allocation, and what that plan is worth."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sandboxes.firm import Assignment, BillingModel, Engagement, Person

from .dates import count_weekdays
from .reference import SERVICE_LINES

__all__ = ["RateLookup", "Staffing", "plan_value", "staff"]

RateLookup = dict[tuple[str, str, str], Decimal]  # (version, role, currency) -> bill rate

_SERVICE_LINE = {line.code: line for line in SERVICE_LINES}
_DAILY_HOURS = Decimal(8)


class Staffing:
    """Picks the least-loaded person of a role, so the bench stays small."""

    def __init__(self, rng: random.Random, people: list[Person]) -> None:
        self._rng = rng
        self._by_slot: dict[tuple[str, str], list[Person]] = {}
        for person in people:
            self._by_slot.setdefault((person.legal_entity, person.role), []).append(person)
        self._load: dict[str, list[tuple[date, date, int]]] = {p.key: [] for p in people}

    def _overlap(self, key: str, start: date, end: date) -> int:
        total = 0
        for first, last, allocation in self._load[key]:
            days = (min(end, last) - max(start, first)).days + 1
            if days > 0:
                total += days * allocation
        return total

    def free(self, entity: str, role: str, exclude: list[str]) -> list[Person]:
        return [p for p in self._by_slot[(entity, role)] if p.key not in exclude]

    def pick(self, candidates: list[Person], start: date, end: date) -> Person:
        jitter = {p.key: self._rng.random() for p in candidates}
        return min(candidates, key=lambda p: (self._overlap(p.key, start, end), jitter[p.key]))

    def book(self, key: str, start: date, end: date, allocation: int) -> None:
        self._load[key].append((start, end, allocation))


def _allocation(rng: random.Random, model: BillingModel, lead: bool) -> int:
    if model in ("RETAINER", "SUBSCRIPTION"):
        return rng.choice((10, 20) if lead else (20, 25, 40))
    if model == "TIME_AND_MATERIALS":
        return rng.choice((20, 25, 30, 40) if lead else (60, 75, 80, 100))
    return rng.choice((10, 20, 25) if lead else (40, 50, 60, 75))


def plan_value(team: list[Assignment], version: str, currency: str, rates: RateLookup) -> Decimal:
    """What the staffing plan bills over the engagement at the contract's rate card."""
    value = Decimal(0)
    for a in team:
        hours = _DAILY_HOURS * a.allocation_percent / 100 * count_weekdays(a.start_date, a.end_date)
        value += hours * rates[(version, a.role, currency)]
    return value


def staff(
    rng: random.Random, staffing: Staffing, engagement: Engagement, first_number: int
) -> list[Assignment]:
    model = engagement.billing_model
    roles = _SERVICE_LINE[engagement.service_line].roles
    lead = "Partner" if "Partner" in roles and rng.random() < 0.4 else "Principal"
    delivery = [role for role in roles if role not in ("Partner", "Principal")]
    size = rng.randint(1, 2) if model in ("RETAINER", "SUBSCRIPTION") else rng.randint(2, 4)
    entity = engagement.legal_entity
    team: list[Assignment] = []
    chosen: list[str] = []  # one assignment per person and engagement
    for position in range(size + 1):
        start, end = engagement.start_date, engagement.end_date
        role = lead
        if position:
            role = rng.choice([r for r in delivery if staffing.free(entity, r, chosen)])
            start = min(start + timedelta(days=rng.randint(0, 14)), end)
            end = max(end - timedelta(days=rng.randint(0, 14)), start)
        person = staffing.pick(staffing.free(entity, role, chosen), start, end)
        allocation = _allocation(rng, model, lead=position == 0)
        staffing.book(person.key, start, end, allocation)
        chosen.append(person.key)
        team.append(
            Assignment(
                key=f"AS-{first_number + position:05d}",
                engagement_key=engagement.key,
                person=person.key,
                role=role,
                allocation_percent=allocation,
                start_date=start,
                end_date=end,
            )
        )
    return team
