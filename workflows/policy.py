"""Pre-win policy checks: may this opportunity be closed won and set up?

`evaluate_win_readiness` runs all seven checks in `CHECK_ORDER`; each passes or
fails with a reason naming the offending value, and the role that must fix it:
CUSTOMER_MASTER_STATUS (MASTER_DATA: the ERP customer exists and is ACTIVE),
LEGAL_ENTITY_MAPPING (MASTER_DATA: the deal's legal entity is an ERP one, the
customer belongs to it, its currency is the deal's), SERVICE_LINE_CLASSIFICATION
(SALES_OPS: in the catalogue), TAX_JURISDICTION (MASTER_DATA: the customer has
one), BILLING_MODEL (SALES_OPS: allowed for the service line; MILESTONE needs a
dated line; MILESTONE lines, and FIXED_FEE lines if any, sum to the amount),
RATE_CARD_VERSION (SALES_OPS: a card of that version in the deal's currency
prices every role of the service line), DELIVERY_READINESS (RESOURCE_MANAGER:
a delivery window, and for every role of the service line an active person
whose peak allocation over it leaves ``min_free_percent`` free).

Checks fail closed: one that cannot verify its condition (no ERP customer,
unknown service line) fails and says why. The deal's currency is its amount's,
else its legal entity's. Pure: the caller reads the systems, passes records in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from domain.catalog import ServiceCatalog, ServiceLineSpec
from domain.governance import CheckOutcome, Role
from domain.ids import EngagementKey, RecordId
from domain.models import (
    Assignment,
    BillingModel,
    Customer,
    CustomerStatus,
    LegalEntity,
    Opportunity,
    OpportunityLine,
    Person,
    RateCard,
)

__all__ = [
    "CHECK_ORDER",
    "WinInputs",
    "WinReadiness",
    "check_over_allocation",
    "evaluate_win_readiness",
    "peak_allocation",
]


@dataclass(frozen=True, slots=True)
class WinInputs:
    """Everything the checks read, gathered by the caller from the four systems."""

    opportunity: Opportunity
    customer: Customer | None  # the ERP customer found by opportunity.customer_key
    legal_entities: Sequence[LegalEntity]
    rate_cards: Sequence[RateCard]
    people: Sequence[Person]
    allocations: Sequence[Assignment]  # PSA allocations overlapping the window, any engagement
    lines: Sequence[OpportunityLine]
    catalog: ServiceCatalog
    min_free_percent: int = 50


class WinReadiness(BaseModel):
    """The seven outcomes, in `CHECK_ORDER`; ready when every one passed."""

    model_config = ConfigDict(frozen=True)

    opportunity_id: RecordId
    engagement_key: EngagementKey | None
    checks: tuple[CheckOutcome, ...]

    @property
    def ready(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> tuple[CheckOutcome, ...]:
        return tuple(check for check in self.checks if not check.passed)


def peak_allocation(
    person_id: RecordId, allocations: Sequence[Assignment], start: date, end: date
) -> int:
    """The highest summed ``allocation_percent`` of the person on any day of [start, end].

    0 when nothing overlaps; an allocation without a start or end date is open on
    that side. An event sweep (+percent on the first overlapping day, -percent the
    day after the last): O(n log n) in the allocations, whatever the window length.
    """
    deltas: dict[int, int] = defaultdict(int)
    for a in allocations:
        if a.person_id != person_id or not a.allocation_percent:
            continue
        first = max(a.start_date or start, start).toordinal()
        last = min(a.end_date or end, end).toordinal()
        if first <= last:
            deltas[first] += a.allocation_percent
            deltas[last + 1] -= a.allocation_percent
    running = peak = 0
    for day in sorted(deltas):
        running += deltas[day]
        peak = max(peak, running)
    return peak


def check_over_allocation(
    person_id: RecordId,
    allocations: Sequence[Assignment],
    start: date,
    end: date,
    percent: int,
    threshold_percent: int = 100,
) -> CheckOutcome:
    """OVER_ALLOCATION: would adding ``percent`` over [start, end] push the person's peak
    above ``threshold_percent``? A business exception for the RESOURCE_MANAGER. Pass the
    person's other allocations only (leave out one being replaced)."""
    peak = peak_allocation(person_id, allocations, start, end)
    total = peak + percent
    passed = total <= threshold_percent
    reason = (
        f"person {person_id} would peak at {total}% from {start} to {end} ({peak}% booked"
        f" + {percent}%), {'within' if passed else 'above'} the {threshold_percent}% threshold"
    )
    return CheckOutcome(
        name="OVER_ALLOCATION", passed=passed, reason=reason, owner_role=Role.RESOURCE_MANAGER
    )


def _outcome(name: str, owner: Role, problems: Sequence[str], ok: str) -> CheckOutcome:
    reason = "; ".join(problems) or ok
    return CheckOutcome(name=name, passed=not problems, reason=reason, owner_role=owner)


@dataclass(frozen=True, slots=True)
class _Facts:
    """What several checks derive from the inputs, derived once."""

    inputs: WinInputs
    line: ServiceLineSpec | None
    line_problem: str  # why `line` is None
    entity: LegalEntity | None
    currency: str | None  # the deal's: its amount's, else its legal entity's
    no_customer: str  # why `inputs.customer` is None


def _facts(inputs: WinInputs) -> _Facts:
    opp = inputs.opportunity
    line = inputs.catalog.service_line(opp.service_line)
    line_problem = (
        "the opportunity has no service line"
        if opp.service_line is None
        else f"service line {opp.service_line!r} is not in the service catalogue"
    )
    entity = next((e for e in inputs.legal_entities if e.code == opp.legal_entity), None)
    currency = opp.amount.currency if opp.amount else (entity.currency if entity else None)
    no_customer = (
        "the opportunity's account is not linked to a customer master key"
        if opp.customer_key is None
        else f"no ERP customer has the master key {opp.customer_key}"
    )
    return _Facts(inputs, line, line_problem, entity, currency, no_customer)


def _who(customer: Customer) -> str:
    return f"customer {customer.key} ({customer.name})"


def _customer_status(f: _Facts) -> tuple[list[str], str]:
    customer = f.inputs.customer
    if customer is None:
        return [f.no_customer], ""
    if customer.status is not CustomerStatus.ACTIVE:
        return [f"{_who(customer)} is {customer.status.value}, not ACTIVE"], ""
    return [], f"{_who(customer)} is ACTIVE"


def _legal_entity(f: _Facts) -> tuple[list[str], str]:
    code, customer, entity = f.inputs.opportunity.legal_entity, f.inputs.customer, f.entity
    amount = f.inputs.opportunity.amount
    problems: list[str] = []
    if code is None:
        problems.append("the opportunity has no legal entity")
    elif entity is None:
        known = ", ".join(sorted(e.code for e in f.inputs.legal_entities)) or "none"
        problems.append(f"legal entity {code!r} is not an ERP legal entity (known: {known})")
    if customer is None:
        problems.append(f"cannot confirm the customer belongs to it: {f.no_customer}")
    elif code is not None and customer.legal_entity != code:
        problems.append(
            f"{_who(customer)} belongs to legal entity {customer.legal_entity!r}, not {code!r}"
        )
    if entity is not None and amount is not None and amount.currency != entity.currency:
        problems.append(
            f"deal currency {amount.currency} differs from {code}'s currency {entity.currency}"
        )
    return problems, f"legal entity {code} ({f.currency}) maps the deal and its customer"


def _classification(f: _Facts) -> tuple[list[str], str]:
    line = f.line
    return ([f.line_problem], "") if line is None else ([], f"{line.code} ({line.name})")


def _tax(f: _Facts) -> tuple[list[str], str]:
    customer = f.inputs.customer
    if customer is None:
        return [f"no tax jurisdiction to read: {f.no_customer}"], ""
    if not (customer.tax_jurisdiction or "").strip():
        return [f"{_who(customer)} has no tax jurisdiction"], ""
    return [], f"tax jurisdiction {customer.tax_jurisdiction}"


def _lines_sum_problem(inputs: WinInputs, model: BillingModel) -> list[str]:
    amount = inputs.opportunity.amount
    if amount is None:
        return [f"a {model.value} deal needs an amount"]
    foreign = sorted({ln.amount.currency for ln in inputs.lines} - {amount.currency})
    if foreign:
        return [f"deal lines are in {', '.join(foreign)}, the deal is in {amount.currency}"]
    total = sum((ln.amount.amount for ln in inputs.lines), start=Decimal(0))
    if total == amount.amount:
        return []
    return [f"{model.value} lines sum to {total} {amount.currency}, the deal is {amount}"]


def _billing_model(f: _Facts) -> tuple[list[str], str]:
    model, lines = f.inputs.opportunity.billing_model, f.inputs.lines
    if model is None:
        return ["the opportunity has no billing model"], ""
    problems: list[str] = []
    if f.line is None:
        problems.append(f"cannot check {model.value} is allowed: {f.line_problem}")
    elif not f.line.allows(model):
        allowed = ", ".join(m.value for m in f.line.billing_models)
        problems.append(f"{model.value} is not allowed for {f.line.code} (allowed: {allowed})")
    if model is BillingModel.MILESTONE and not any(ln.service_date for ln in lines):
        problems.append("a MILESTONE deal needs at least one dated line")
    if model is BillingModel.MILESTONE or (model is BillingModel.FIXED_FEE and lines):
        problems.extend(_lines_sum_problem(f.inputs, model))
    return problems, f"{model.value} is allowed for {f.line.code if f.line else '?'}"


def _rate_card(f: _Facts) -> tuple[list[str], str]:
    version, currency, line = f.inputs.opportunity.rate_card_version, f.currency, f.line
    if version is None:
        return ["the opportunity has no rate card version"], ""
    if currency is None:
        return [f"cannot pick a {version} rate card: the deal has no currency"], ""
    cards = [c for c in f.inputs.rate_cards if c.version == version]
    card = next((c for c in cards if c.currency == currency), None)
    if card is None:
        found = ", ".join(sorted(c.currency for c in cards)) or "none"
        return [f"no {version} rate card in {currency} (found in: {found})"], ""
    if line is None:
        return [f"cannot check {version} prices the roles: {f.line_problem}"], ""
    unpriced = [role for role in line.roles if card.rate_for(role) is None]
    if unpriced:
        return [f"{version} ({currency}) has no rate for {', '.join(unpriced)} ({line.code})"], ""
    return [], f"{version} ({currency}) prices every {line.code} role"


def _delivery(f: _Facts) -> tuple[list[str], str]:
    start, end = f.inputs.opportunity.start_date, f.inputs.opportunity.end_date
    if start is None or end is None:
        return ["the opportunity has no delivery window (start and end dates)"], ""
    if end < start:
        return [f"the delivery window ends ({end}) before it starts ({start})"], ""
    if f.line is None:
        return [f"cannot check staffing: {f.line_problem}"], ""
    free, ceiling = f.inputs.min_free_percent, 100 - f.inputs.min_free_percent
    booked: dict[RecordId | None, list[Assignment]] = defaultdict(list)
    for allocation in f.inputs.allocations:
        booked[allocation.person_id].append(allocation)
    problems: list[str] = []
    for role in f.line.roles:
        people = [p for p in f.inputs.people if p.active and p.role == role]
        if not people:
            problems.append(f"no active {role}")
        elif all(peak_allocation(p.id, booked[p.id], start, end) > ceiling for p in people):
            problems.append(
                f"no {role} has {free}% free from {start} to {end} "
                f"(all {len(people)} active are allocated above {ceiling}%)"
            )
    return problems, f"every {f.line.code} role has someone {free}% free from {start} to {end}"


_CHECKS: tuple[tuple[str, Role, Callable[[_Facts], tuple[list[str], str]]], ...] = (
    ("CUSTOMER_MASTER_STATUS", Role.MASTER_DATA, _customer_status),
    ("LEGAL_ENTITY_MAPPING", Role.MASTER_DATA, _legal_entity),
    ("SERVICE_LINE_CLASSIFICATION", Role.SALES_OPS, _classification),
    ("TAX_JURISDICTION", Role.MASTER_DATA, _tax),
    ("BILLING_MODEL", Role.SALES_OPS, _billing_model),
    ("RATE_CARD_VERSION", Role.SALES_OPS, _rate_card),
    ("DELIVERY_READINESS", Role.RESOURCE_MANAGER, _delivery),
)
CHECK_ORDER: tuple[str, ...] = tuple(name for name, _, _ in _CHECKS)


def evaluate_win_readiness(inputs: WinInputs) -> WinReadiness:
    """Run every check, in `CHECK_ORDER`; bad data fails a check, it never raises."""
    facts = _facts(inputs)
    return WinReadiness(
        opportunity_id=inputs.opportunity.id,
        engagement_key=inputs.opportunity.engagement_key,
        checks=tuple(_outcome(name, owner, *check(facts)) for name, owner, check in _CHECKS),
    )
