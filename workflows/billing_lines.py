"""Pricing the selected inputs into invoice lines, the way the demo firm invoices.

- time: one SERVICES line per (role, rate), quantity = hours, rate = the
  contract rate card's rate for the person's role, described
  ``"<role> services <YYYY-MM>"``, in the rate card's role order;
- one line per milestone (item FIXED_FEE on a fixed-fee contract, else
  MILESTONE) and one per schedule line (item RETAINER, SUBSCRIPTION or
  FIXED_FEE), quantity 1, described by the milestone title / schedule line;
- one EXPENSE line per category, ``"<category> expenses <YYYY-MM>"``, quantity 1.

A line's amount is rate x quantity rounded half-even to the currency's minor
unit (`Money.rounded`): the only rounding there is. Time is priced only from
the contract's own card (its version, in the contract currency): without one,
or for a role it does not price, the time is left out (RATE_CARD_MISMATCH); an
entry recorded at another rate is billed at the contract rate and reported
(RATE_CARD_MISMATCH, blocking); a person without a known role is left out
(UNPRICED_INPUT, owner RESOURCE_MANAGER).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from domain.governance import Role
from domain.models import BillingModel, InvoiceLine, RateCard, TimeEntry
from domain.money import Money
from workflows.billing_inputs import FEE_ITEMS, Selection
from workflows.billing_types import BillingInputs, RuleViolation, ViolationCode

__all__ = ["price_lines", "price_time"]

_ONE = Decimal(1)


def _line(
    description: str, item: str, quantity: Decimal, rate: Money, keys: Sequence[str]
) -> InvoiceLine:
    return InvoiceLine(
        description=description,
        item=item,
        quantity=quantity,
        rate=rate,
        amount=(rate * quantity).rounded(),
        sources=tuple(keys),
    )


def _usable_card(inputs: BillingInputs) -> tuple[RateCard | None, str]:
    card, version, cur = inputs.rate_card, inputs.rate_card_version, inputs.currency
    if version is None:
        return None, "the contract names no rate card version"
    if card is None:
        return None, f"no {version} rate card in {cur} was found"
    if card.version != version or card.currency != cur:
        return (
            None,
            f"rate card {card.version} ({card.currency}) is not the contract's {version} ({cur})",
        )
    return card, ""


def _violation(
    what: str,
    keys: Sequence[str],
    code: ViolationCode = ViolationCode.RATE_CARD_MISMATCH,
    owner: Role = Role.FINANCE,
) -> RuleViolation:
    ordered = tuple(sorted(keys))
    return RuleViolation(
        code=code, message=f"{what}: {', '.join(ordered)}", owner_role=owner, input_keys=ordered
    )


def price_time(
    inputs: BillingInputs, entries: Sequence[tuple[str, TimeEntry]], period: str
) -> tuple[list[InvoiceLine], list[RuleViolation]]:
    """SERVICES lines for the entries, and the rate-card rules they break."""
    if not entries:
        return [], []
    card, problem = _usable_card(inputs)
    if card is None:
        return [], [_violation(f"{problem}; time left out", [key for key, _ in entries])]
    no_role: list[str] = []
    unpriced: dict[str, list[str]] = defaultdict(list)
    off_rate: dict[tuple[str, Money], list[str]] = defaultdict(list)
    groups: dict[tuple[str, Money], list[tuple[str, TimeEntry]]] = defaultdict(list)
    for key, entry in entries:
        role = inputs.people_roles.get(entry.person_id) if entry.person_id else None
        rate = card.rate_for(role) if role else None
        if role is None:
            no_role.append(key)
        elif rate is None:
            unpriced[role].append(key)
        else:
            if entry.bill_rate is not None and entry.bill_rate != rate:
                off_rate[(role, entry.bill_rate)].append(key)
            groups[(role, rate)].append((key, entry))
    violations: list[RuleViolation] = []
    if no_role:
        violations.append(
            _violation(
                "no role is known for the person, time left out",
                no_role,
                ViolationCode.UNPRICED_INPUT,
                Role.RESOURCE_MANAGER,
            )
        )
    for role, keys in sorted(unpriced.items()):
        label = f"{card.version} ({card.currency}) has no rate for {role}; time left out"
        violations.append(_violation(label, keys))
    for (role, recorded), keys in sorted(off_rate.items(), key=lambda i: (i[0][0], str(i[0][1]))):
        label = (
            f"{role} time recorded at {recorded}, not the {card.version} rate {card.rate_for(role)}"
        )
        violations.append(_violation(label, keys))
    order = {rate.role: index for index, rate in enumerate(card.rates)}
    lines = []
    for (role, rate), group in sorted(
        groups.items(), key=lambda i: (order.get(i[0][0], len(order)), i[0][0], i[0][1].amount)
    ):
        hours = sum((entry.hours for _, entry in group), start=Decimal(0))
        keys = [key for key, _ in group]
        lines.append(_line(f"{role} services {period}", "SERVICES", hours, rate, keys))
    return lines, violations


def price_lines(
    inputs: BillingInputs, selection: Selection
) -> tuple[list[InvoiceLine], list[RuleViolation]]:
    """Every line of the draft, in invoice order: services, milestones, fees, expenses."""
    end = inputs.period_end
    period = f"{end.year:04d}-{end.month:02d}"
    lines, violations = price_time(inputs, selection.time_entries, period)
    item = "FIXED_FEE" if inputs.billing_model is BillingModel.FIXED_FEE else "MILESTONE"
    for key, milestone in selection.milestones:
        if milestone.amount is not None:  # always: select_inputs leaves unpriced ones out
            lines.append(_line(milestone.title, item, _ONE, milestone.amount, [key]))
    fee_item = FEE_ITEMS.get(inputs.billing_model, "FIXED_FEE")
    for key, due in selection.schedule_lines:
        if due.amount is not None:  # likewise
            lines.append(_line(due.description, fee_item, _ONE, due.amount, [key]))
    categories: dict[str, list[tuple[str, Money]]] = defaultdict(list)
    for key, expense in selection.expenses:
        categories[expense.category or "Uncategorised"].append((key, expense.amount))
    for category in sorted(categories):
        spent = Money.sum([amount for _, amount in categories[category]], inputs.currency)
        keys = sorted(key for key, _ in categories[category])
        lines.append(_line(f"{category} expenses {period}", "EXPENSE", _ONE, spent, keys))
    return lines, violations
