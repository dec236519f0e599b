"""The planted discrepancies: chosen from the data, made true in it, and described.

Every planted discrepancy touches its own engagement (no engagement carries two),
so each one is detectable on its own and the rest of the firm stays clean.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sandboxes.firm import Customer, Discrepancy, Engagement, Invoice

from .activity import RawTime
from .dates import AS_OF, BILLED_THROUGH, invoice_key, month_end, month_key

__all__ = [
    "UNBILLED_CUTOFF",
    "TimePlan",
    "crm_omissions",
    "duplicate_customers",
    "missing_schedules",
    "plan_time",
    "unactivated",
]

UNBILLED_CUTOFF = AS_OF - timedelta(days=60)

_Slot = tuple[str, date]  # (person, month)


@dataclass(frozen=True, slots=True)
class TimePlan:
    wrong_version: dict[str, str]  # time entry key -> version wrongly applied
    unbilled: frozenset[str]  # time entry keys left off their invoice
    discrepancies: list[Discrepancy]


def _billable_slots(raw: list[RawTime]) -> dict[str, dict[_Slot, list[str]]]:
    """Billable entries in closed months, per engagement, per (person, month)."""
    slots: dict[str, dict[_Slot, list[str]]] = defaultdict(dict)
    for row in raw:
        if row.billable and row.spent_date <= BILLED_THROUGH:
            slot = (row.person, row.spent_date.replace(day=1))
            slots[row.engagement_key].setdefault(slot, []).append(row.key)
    return slots


def _other_version(version: str) -> str:
    return "RC-2025" if version == "RC-2026" else "RC-2026"


def plan_time(
    rng: random.Random,
    engagements: list[Engagement],
    raw: list[RawTime],
    used: set[str],
    wrong_rate: int,
    unbilled: int,
) -> TimePlan:
    """Pick time to price at the wrong rate card version and time to leave unbilled."""
    slots = _billable_slots(raw)
    versions = {e.key: e.rate_card_version for e in engagements}
    discrepancies: list[Discrepancy] = []
    wrong: dict[str, str] = {}
    pricey = {k: [i for i in s.items() if len(i[1]) >= 3] for k, s in slots.items()}
    candidates = [key for key, options in pricey.items() if options and key not in used]
    for key in sorted(rng.sample(candidates, wrong_rate)):
        used.add(key)
        (person, month), keys = rng.choice(pricey[key])
        version = _other_version(versions[key])
        wrong.update(dict.fromkeys(keys, version))
        invoice = invoice_key(key, month)
        discrepancies.append(
            Discrepancy(
                kind="WRONG_RATE_CARD_VERSION",
                systems=("harvest", "netsuite"),
                engagement_key=key,
                records=(*keys, invoice),
                description=(
                    f"{len(keys)} time entries of {person} in {month_key(month)} were billed on "
                    f"{invoice} at rate card {version}; the contract fixes {versions[key]}."
                ),
            )
        )
    stale: dict[str, list[tuple[_Slot, list[str]]]] = {}
    for key, own in slots.items():
        latest = max(month for _, month in own)
        stale[key] = [
            (slot, keys)
            for slot, keys in own.items()
            if month_end(slot[1]) < UNBILLED_CUTOFF and slot[1] < latest
        ]
    left_off: list[str] = []
    candidates = [key for key, options in stale.items() if options and key not in used]
    for key in sorted(rng.sample(candidates, unbilled)):
        used.add(key)
        (person, month), keys = rng.choice(stale[key])
        left_off.extend(keys)
        discrepancies.append(
            Discrepancy(
                kind="APPROVED_TIME_UNBILLED_PAST_CUTOFF",
                systems=("harvest", "netsuite"),
                engagement_key=key,
                records=tuple(keys),
                description=(
                    f"{len(keys)} approved billable time entries of {person} in "
                    f"{month_key(month)} are not on any invoice, more than 60 days before "
                    f"{AS_OF.isoformat()}, although later months were invoiced."
                ),
            )
        )
    return TimePlan(wrong, frozenset(left_off), discrepancies)


def unactivated(engagements: list[Engagement]) -> list[Discrepancy]:
    return [
        Discrepancy(
            kind="WON_OPPORTUNITY_WITHOUT_PROJECT",
            systems=("salesforce", "kantata", "netsuite"),
            engagement_key=e.key,
            records=(e.opportunity,),
            description=(
                f"{e.opportunity} is Closed Won but {e.key} was never activated: "
                "no PSA project, no ERP project, no time, no invoices."
            ),
        )
        for e in engagements
        if e.present_in == ("salesforce",)
    ]


def missing_schedules(
    rng: random.Random, engagements: list[Engagement], used: set[str], count: int
) -> list[Discrepancy]:
    """Running time-and-materials projects whose ERP billing schedule was never created."""
    candidates = [
        e.key
        for e in engagements
        if e.billing_model == "TIME_AND_MATERIALS"
        and e.status == "ACTIVE"
        and "netsuite" in e.present_in
        and e.key not in used
    ]
    chosen = sorted(rng.sample(candidates, count))
    used.update(chosen)
    return [
        Discrepancy(
            kind="PROJECT_WITHOUT_BILLING_SCHEDULE",
            systems=("kantata", "netsuite"),
            engagement_key=key,
            records=(key,),
            description=f"Project {key} is active in the PSA and ERP but has no billing schedule.",
        )
        for key in chosen
    ]


def crm_omissions(
    rng: random.Random, invoices: list[Invoice], used: set[str], count: int
) -> list[Discrepancy]:
    """Engagements whose latest invoices never reached the CRM's invoiced amount."""
    by_engagement: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_engagement[invoice.engagement_key].append(invoice)
    candidates = [k for k, own in by_engagement.items() if len(own) >= 3 and k not in used]
    result: list[Discrepancy] = []
    for key in sorted(rng.sample(candidates, count)):
        used.add(key)
        own = sorted(by_engagement[key], key=lambda inv: inv.tran_date)
        missing = own[-rng.randint(1, 2) :]
        gap = sum((inv.total for inv in missing), Decimal(0))
        currency = missing[0].currency
        result.append(
            Discrepancy(
                kind="INVOICE_NOT_IN_CRM",
                systems=("netsuite", "salesforce"),
                engagement_key=key,
                records=tuple(inv.key for inv in missing),
                description=(
                    f"{len(missing)} posted invoice(s) of {key} ({gap} {currency}) are missing "
                    "from the opportunity's invoiced amount in the CRM."
                ),
            )
        )
    return result


def duplicate_customers(duplicates: list[Customer]) -> list[Discrepancy]:
    return [
        Discrepancy(
            kind="DUPLICATE_ERP_CUSTOMER",
            systems=("netsuite",),
            engagement_key=None,
            records=(twin.key.removesuffix("-DUP"), twin.key),
            description=(
                f"ERP customer {twin.key} '{twin.name}' duplicates "
                f"{twin.key.removesuffix('-DUP')}; it exists only in the ERP."
            ),
        )
        for twin in duplicates
    ]
