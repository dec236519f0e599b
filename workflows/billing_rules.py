"""The billing engine: one engagement's draft invoice, and the contract rules it breaks.

`build_draft` is pure. It selects the governed billing inputs due by the
period's end (`workflows.billing_inputs`), prices them into lines the way the
firm invoices (`workflows.billing_lines`), then validates the contract:

- CURRENCY_MISMATCH (FINANCE): the contract currency is not the legal entity's
  (or the cap, the billed total, or an input is in another currency);
- RATE_CARD_MISMATCH (FINANCE): the contract's version has no rate card, the
  card lacks a role, or an entry's recorded bill rate is not the contract rate;
- NOT_TO_EXCEED (FINANCE): billed to date + this draft exceed the cap
  (reaching it exactly is allowed);
- PERIOD_CLOSED (FINANCE): the draft's period ends on or before ``closed_through``;
- ALREADY_BILLED (FINANCE, informational): an input already on a posted
  invoice is left out of the draft;
- DUPLICATE_INPUT, UNPRICED_INPUT: inputs that cannot be billed, left out;
- NOTHING_TO_BILL (FINANCE): the draft has no line.

Breaking a rule never raises: the draft is still computed and the violations
say why it may not be posted (`DraftComputation.blocking`). The total is the
sum of the already-rounded line amounts; every input key is on one line at most.
"""

from __future__ import annotations

from domain.governance import Role
from domain.money import Money
from workflows.billing_inputs import select_inputs
from workflows.billing_lines import price_lines
from workflows.billing_types import (
    INFORMATIONAL,
    BillingInputs,
    DraftComputation,
    RuleViolation,
    ViolationCode,
)

__all__ = [
    "INFORMATIONAL",
    "BillingInputs",
    "DraftComputation",
    "RuleViolation",
    "ViolationCode",
    "build_draft",
]


def _finance(code: ViolationCode, message: str, keys: tuple[str, ...] = ()) -> RuleViolation:
    return RuleViolation(code=code, message=message, owner_role=Role.FINANCE, input_keys=keys)


def _header(inputs: BillingInputs) -> list[RuleViolation]:
    found: list[RuleViolation] = []
    if inputs.currency != inputs.legal_entity_currency:
        found.append(
            _finance(
                ViolationCode.CURRENCY_MISMATCH,
                f"contract currency {inputs.currency} is not the legal entity's currency "
                f"{inputs.legal_entity_currency}",
            )
        )
    closed = inputs.closed_through
    if closed is not None and inputs.period_end <= closed:
        found.append(
            _finance(
                ViolationCode.PERIOD_CLOSED,
                f"the period ending {inputs.period_end} is closed "
                f"(books are closed through {closed})",
            )
        )
    return found


def _cap(inputs: BillingInputs, total: Money, keys: tuple[str, ...]) -> list[RuleViolation]:
    cap, billed, cur = inputs.not_to_exceed, inputs.billed_total, inputs.currency
    if cap is None:
        return []
    for label, amount in (("not-to-exceed cap", cap), ("billed total", billed)):
        if amount.currency != cur:
            message = f"{label} is in {amount.currency}, the contract in {cur}: cap not checked"
            return [_finance(ViolationCode.CURRENCY_MISMATCH, message)]
    after = billed + total
    if after <= cap:
        return []
    return [
        _finance(
            ViolationCode.NOT_TO_EXCEED,
            f"billed {billed} + this draft {total} = {after} exceeds the not-to-exceed cap "
            f"{cap} by {after - cap}",
            keys,
        )
    ]


def build_draft(inputs: BillingInputs) -> DraftComputation:
    """The draft invoice for ``inputs.engagement_key`` through ``inputs.period_end``."""
    violations = _header(inputs)
    selection = select_inputs(inputs)
    violations.extend(selection.violations)
    lines, pricing = price_lines(inputs, selection)
    violations.extend(pricing)
    total = Money.sum([line.amount for line in lines], inputs.currency)
    keys = tuple(sorted(key for line in lines for key in line.sources))
    if not lines:
        violations.append(
            _finance(
                ViolationCode.NOTHING_TO_BILL,
                f"nothing to bill for {inputs.engagement_key} through {inputs.period_end}",
            )
        )
    violations.extend(_cap(inputs, total, keys))
    return DraftComputation(
        engagement_key=inputs.engagement_key,
        period_end=inputs.period_end,
        currency=inputs.currency,
        lines=tuple(lines),
        total=total,
        input_keys=keys,
        violations=tuple(violations),
    )
