"""``generate_firm``: the whole demo firm from one seed, in dependency order."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from sandboxes.firm import Engagement, Firm, Invoice, Opportunity, TimeEntry

from .activity import build_activity, finalize_time
from .billing import build_invoices, build_schedules, settle
from .dates import AS_OF
from .deals import build_deals
from .parties import build_customers, build_duplicates, build_people
from .planting import crm_omissions, duplicate_customers, missing_schedules, plan_time, unactivated
from .reference import (
    DEPARTMENTS,
    LEGAL_ENTITIES,
    LOCATIONS,
    SERVICE_LINES,
    build_rate_card,
    money,
    round_up,
)

__all__ = ["generate_firm"]

# how many of each discrepancy are planted
_UNACTIVATED = 3
_WRONG_RATE = 3
_UNBILLED = 4
_NO_SCHEDULE = 3
_NOT_IN_CRM = 4
_DUPLICATES = 3
_CAP_HEADROOM = Decimal("1.05")


def generate_firm(seed: int = 42) -> Firm:
    """The demo firm for ``seed``: the same seed always gives an equal firm."""
    rng = random.Random(seed)
    rate_card = build_rate_card()
    rates = {(r.version, r.role, r.currency): r.bill_rate for r in rate_card}
    people = build_people(rng)
    customers = build_customers(rng)
    twins = build_duplicates(rng, customers, _DUPLICATES)
    deals = build_deals(rng, customers, people, rates, _UNACTIVATED)
    raw, expenses = build_activity(rng, people, deals.engagements, deals.assignments)
    used = {e.key for e in deals.engagements if e.present_in == ("salesforce",)}
    plan = plan_time(rng, deals.engagements, raw, used, _WRONG_RATE, _UNBILLED)
    time_entries = finalize_time(
        raw, people, deals.engagements, rates, plan.wrong_version, plan.unbilled
    )
    engagements = _cap_to_work(deals.engagements, time_entries)
    schedules = build_schedules(engagements, deals.milestones)
    drafts = build_invoices(
        engagements, schedules, deals.milestones, time_entries, expenses, people
    )
    invoices, payments = settle(rng, drafts)
    no_schedule = missing_schedules(rng, engagements, used, _NO_SCHEDULE)
    not_in_crm = crm_omissions(rng, invoices, used, _NOT_IN_CRM)
    left_out = {key for d in not_in_crm for key in d.records}
    without = {d.engagement_key for d in no_schedule}
    discrepancies = [
        *plan.discrepancies,
        *unactivated(engagements),
        *no_schedule,
        *not_in_crm,
        *duplicate_customers(twins),
    ]
    discrepancies.sort(key=lambda d: (d.kind, d.engagement_key or "", d.records))
    return Firm(
        seed=seed,
        as_of=AS_OF,
        legal_entities=list(LEGAL_ENTITIES),
        departments=list(DEPARTMENTS),
        locations=list(LOCATIONS),
        service_lines=list(SERVICE_LINES),
        rate_card=rate_card,
        people=people,
        customers=customers,
        duplicate_customers=twins,
        opportunities=_crm_invoiced(deals.opportunities, invoices, left_out),
        engagements=engagements,
        milestones=deals.milestones,
        assignments=deals.assignments,
        time_entries=time_entries,
        expenses=expenses,
        invoices=invoices,
        payments=payments,
        billing_schedules=[s for key, s in schedules.items() if key not in without],
        discrepancies=discrepancies,
    )


def _cap_to_work(engagements: list[Engagement], entries: list[TimeEntry]) -> list[Engagement]:
    """Raise each not-to-exceed cap above the billable work logged, so no cap is breached."""
    value: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        if entry.billable:
            value[entry.engagement_key] += entry.hours * entry.bill_rate
    result: list[Engagement] = []
    for e in engagements:
        needed = value.get(e.key, Decimal(0)) * _CAP_HEADROOM
        if e.not_to_exceed is not None and needed > e.not_to_exceed:
            e = replace(e, not_to_exceed=round_up(needed, 5000))
        result.append(e)
    return result


def _crm_invoiced(
    opportunities: list[Opportunity], invoices: list[Invoice], left_out: set[str]
) -> list[Opportunity]:
    """The CRM's invoiced amount: every invoice of the engagement but the planted omissions."""
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if invoice.key not in left_out:
            invoiced[invoice.engagement_key] += invoice.total
    return [
        replace(o, invoiced_amount=money(invoiced[o.engagement_key]))
        if o.engagement_key in invoiced
        else o
        for o in opportunities
    ]
