"""The pipeline: opportunities, and for the won ones engagements, staffing and milestones.

Contract values are estimated from the staffing plan and the rate card, so the
money a deal was sold for is in proportion to the work it takes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from sandboxes.firm import (
    Assignment,
    BillingModel,
    Customer,
    Engagement,
    Milestone,
    Opportunity,
    OpportunityStage,
    Person,
)

from .dates import AS_OF, BILLED_THROUGH, DATA_START, add_months, invoice_key
from .dates import month_end as end_of_month
from .reference import LEGAL_ENTITIES, LOCATIONS, SERVICE_LINES, money, round_up
from .staffing import RateLookup, Staffing, plan_value, staff

__all__ = ["Deals", "build_deals"]

MilestoneState = Literal["not started", "started", "completed"]

_WON_MODELS: tuple[tuple[BillingModel, int], ...] = (
    ("TIME_AND_MATERIALS", 60),
    ("FIXED_FEE", 22),
    ("MILESTONE", 16),
    ("RETAINER", 12),
    ("SUBSCRIPTION", 10),
)
_LOST = 40
_OPEN: tuple[tuple[OpportunityStage, int, int], ...] = (
    # stage, count, probability
    ("Prospecting", 15, 10),
    ("Qualification", 22, 20),
    ("Needs Analysis", 15, 30),
    ("Proposal/Price Quote", 15, 50),
    ("Negotiation/Review", 23, 75),
)
# open deals deliberately made with customers that fail the pre-win policy checks
_INVALID_OPEN: dict[str, int] = {"Qualification": 3, "Negotiation/Review": 4}
_MODEL_SERVICE_LINES: dict[str, tuple[str, ...]] = {
    "TIME_AND_MATERIALS": ("STRATEGY", "CLOUD", "DATA", "SECURITY"),
    "FIXED_FEE": ("STRATEGY", "CLOUD", "DATA", "SECURITY"),
    "MILESTONE": ("CLOUD", "DATA", "SECURITY"),
    "RETAINER": ("STRATEGY", "SECURITY", "MANAGED_SERVICES"),
    "SUBSCRIPTION": ("MANAGED_SERVICES",),
}
_DESCRIPTORS: dict[str, tuple[str, ...]] = {
    "STRATEGY": ("Operating Model Review", "Growth Strategy", "Cost Transformation"),
    "CLOUD": ("AWS Migration", "Azure Landing Zone", "Platform Modernisation"),
    "DATA": ("Data Platform Build", "BI Modernisation", "Data Governance"),
    "SECURITY": ("Penetration Testing", "ISO 27001 Readiness", "Zero Trust Roadmap"),
    "MANAGED_SERVICES": ("Managed Cloud Operations", "Application Management", "24x7 Support"),
}
_MILESTONE_TITLES = (
    "Discovery sign-off",
    "Design approved",
    "Build complete",
    "User acceptance",
    "Go-live",
)
_SERVICE_LINE = {line.code: line for line in SERVICE_LINES}
_LOCATIONS = {
    entity.code: [loc.code for loc in LOCATIONS if loc.legal_entity == entity.code]
    for entity in LEGAL_ENTITIES
}
_RECENT = date(2026, 8, 1)  # won this late, a deal may not have been set up yet


@dataclass(frozen=True, slots=True)
class Deals:
    opportunities: list[Opportunity]
    engagements: list[Engagement]
    assignments: list[Assignment]
    milestones: list[Milestone]


@dataclass(slots=True)
class _Spec:
    stage: OpportunityStage
    probability: int
    close_date: date
    customer: Customer
    billing_model: BillingModel
    service_line: str


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _specs(rng: random.Random, customers: list[Customer]) -> list[_Spec]:
    good = [c for c in customers if c.status == "ACTIVE" and c.tax_jurisdiction is not None]
    invalid = [c for c in customers if c.status == "ON_HOLD" or c.tax_jurisdiction is None]
    prospects = [c for c in customers if c.status == "PROSPECT"]
    specs: list[_Spec] = []
    models = [model for model, count in _WON_MODELS for _ in range(count)]
    rng.shuffle(models)
    for model in models:
        if model == "TIME_AND_MATERIALS":
            close = _day_between(rng, date(2025, 8, 1), date(2026, 10, 10))
        else:
            close = _day_between(rng, date(2025, 10, 10), date(2026, 9, 20))
        line = rng.choice(_MODEL_SERVICE_LINES[model])
        specs.append(_Spec("Closed Won", 100, close, rng.choice(good), model, line))
    for _ in range(_LOST):
        model = rng.choice(("TIME_AND_MATERIALS", "FIXED_FEE", "MILESTONE", "RETAINER"))
        close = _day_between(rng, date(2025, 8, 1), date(2026, 10, 20))
        customer = rng.choice(good + prospects)
        line = rng.choice(_MODEL_SERVICE_LINES[model])
        specs.append(_Spec("Closed Lost", 0, close, customer, model, line))
    for stage, count, probability in _OPEN:
        for index in range(count):
            model = rng.choice([model for model, _ in _WON_MODELS])
            if index < _INVALID_OPEN.get(stage, 0):
                customer = invalid[index % len(invalid)]
            elif stage in ("Prospecting", "Needs Analysis") and rng.random() < 0.3:
                customer = rng.choice(prospects)
            else:
                customer = rng.choice(good)
            close = AS_OF + timedelta(days=rng.randint(5, 150))
            line = rng.choice(_MODEL_SERVICE_LINES[model])
            specs.append(_Spec(stage, probability, close, customer, model, line))
    # keys follow the close date; the generation index breaks ties
    order = sorted(range(len(specs)), key=lambda i: (specs[i].close_date, i))
    return [specs[i] for i in order]


def _window(rng: random.Random, spec: _Spec) -> tuple[date, date]:
    model, close = spec.billing_model, spec.close_date
    if model in ("RETAINER", "SUBSCRIPTION"):
        start = add_months(close, 1)
        months = 12 if model == "SUBSCRIPTION" else rng.randint(6, 12)
        return start, end_of_month(add_months(start, months - 1))
    start = min(close + timedelta(days=rng.randint(3, 21)), AS_OF - timedelta(days=3))
    if model != "TIME_AND_MATERIALS":
        start = max(start, DATA_START)
    days = {"TIME_AND_MATERIALS": (90, 330), "FIXED_FEE": (60, 240), "MILESTONE": (90, 300)}
    low, high = days[model]
    return start, start + timedelta(days=rng.randint(low, high))


def _milestones(
    rng: random.Random, engagement: Engagement, count: int, first_number: int
) -> list[Milestone]:
    """Milestones spread over the engagement, amounts summing to the contract value.

    Accepted milestones due in a closed month are billed on that month's invoice;
    ones completed in the open month may await acceptance or billing.
    """
    span = (engagement.end_date - engagement.start_date).days
    weights = [rng.randint(15, 35) for _ in range(count)]
    amounts = [money(engagement.contract_value * w / sum(weights)) for w in weights[:-1]]
    amounts.append(engagement.contract_value - sum(amounts, Decimal(0)))
    titles = _MILESTONE_TITLES[: count - 1] + _MILESTONE_TITLES[-1:]
    result: list[Milestone] = []
    started = engagement.start_date <= AS_OF
    for index in range(count):
        due = engagement.start_date + timedelta(days=span * (index + 1) // count)
        billed = due <= BILLED_THROUGH
        state: MilestoneState = "not started"
        accepted = False
        if due <= AS_OF:
            state, accepted = "completed", billed or rng.random() < 0.6
        elif started:
            state, started = "started", False  # only the next milestone is under way
        result.append(
            Milestone(
                key=f"MS-{first_number + index:05d}",
                engagement_key=engagement.key,
                title=titles[index],
                due_date=due,
                amount=amounts[index],
                state=state,
                accepted=accepted,
                invoice=invoice_key(engagement.key, due) if billed else None,
            )
        )
    return result


def _months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _contract_terms(rng: random.Random, engagement: Engagement, estimate: Decimal) -> Engagement:
    model = engagement.billing_model
    if model in ("RETAINER", "SUBSCRIPTION"):
        months = _months(engagement.start_date, engagement.end_date)
        fee = round_up(estimate / months, 500)
        return replace(engagement, contract_value=money(fee * months), monthly_fee=fee)
    if model == "TIME_AND_MATERIALS":
        value = round_up(estimate, 1000)
        # the cap is raised to the work actually logged once time exists (see assemble)
        cap = round_up(value * Decimal("1.10"), 5000) if rng.random() < 0.4 else None
        return replace(engagement, contract_value=value, not_to_exceed=cap)
    return replace(engagement, contract_value=round_up(estimate, 5000))


def build_deals(
    rng: random.Random,
    customers: list[Customer],
    people: list[Person],
    rates: RateLookup,
    unactivated: int,
) -> Deals:
    """All opportunities; engagements for the won ones, ``unactivated`` of them never set up."""
    specs = _specs(rng, customers)
    owners: dict[str, list[str]] = {}
    for person in people:
        if person.role in ("Partner", "Principal"):
            owners.setdefault(person.legal_entity, []).append(person.email)
    recent_won = [
        i for i, s in enumerate(specs) if s.stage == "Closed Won" and s.close_date >= _RECENT
    ]
    never_activated = set(rng.sample(recent_won, min(unactivated, len(recent_won))))
    staffing = Staffing(rng, people)
    opportunities: list[Opportunity] = []
    engagements: list[Engagement] = []
    assignments: list[Assignment] = []
    milestones: list[Milestone] = []
    for index, spec in enumerate(specs):
        number = index + 1
        customer, line = spec.customer, _SERVICE_LINE[spec.service_line]
        engagement_key = f"ENG-{spec.close_date.year}-{number:05d}"
        name = f"{customer.name} - {rng.choice(_DESCRIPTORS[line.code])}"
        amount = Decimal(rng.randint(8, 100) * 5000)
        version = "RC-2025" if spec.close_date.year < 2026 else "RC-2026"
        if spec.stage == "Closed Won":
            start, end = _window(rng, spec)
            version = "RC-2025" if start.year < 2026 or rng.random() < 0.15 else "RC-2026"
            engagement = Engagement(
                key=engagement_key,
                opportunity=f"OPP-{number:05d}",
                customer=customer.key,
                legal_entity=customer.legal_entity,
                currency=customer.currency,
                name=name,
                billing_model=spec.billing_model,
                service_line=line.code,
                rate_card_version=version,
                status="COMPLETED" if end < AS_OF else "ACTIVE",
                start_date=start,
                end_date=end,
                contract_value=Decimal(0),
                not_to_exceed=None,
                department=line.department,
                class_code=line.class_code,
                location=rng.choice(_LOCATIONS[customer.legal_entity]),
                monthly_fee=None,
            )
            if index in never_activated:
                engagement = replace(engagement, status="ACTIVE", present_in=("salesforce",))
                estimate = amount
            else:
                team = staff(rng, staffing, engagement, len(assignments) + 1)
                assignments.extend(team)
                estimate = plan_value(team, version, engagement.currency, rates)
            engagement = _contract_terms(rng, engagement, estimate)
            amount = engagement.contract_value
            engagements.append(engagement)
            count = _milestone_count(rng, engagement)
            if count and index not in never_activated:
                milestones.extend(_milestones(rng, engagement, count, len(milestones) + 1))
        opportunities.append(
            Opportunity(
                key=f"OPP-{number:05d}",
                engagement_key=engagement_key,
                customer=customer.key,
                name=name,
                stage=spec.stage,
                amount=money(amount),
                currency=customer.currency,
                close_date=spec.close_date,
                probability=spec.probability,
                billing_model=spec.billing_model,
                service_line=line.code,
                legal_entity=customer.legal_entity,
                rate_card_version=version,
                owner=rng.choice(owners[customer.legal_entity]),
                invoiced_amount=Decimal("0.00"),
            )
        )
    return Deals(opportunities, engagements, assignments, milestones)


def _milestone_count(rng: random.Random, engagement: Engagement) -> int:
    if engagement.billing_model == "MILESTONE":
        return rng.randint(3, 5)
    if engagement.billing_model == "FIXED_FEE" and rng.random() < 0.6:
        return rng.randint(3, 4)
    return 0
