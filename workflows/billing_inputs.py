"""Which records are governed billing inputs of a draft, each under a stable input key.

- time: APPROVED, billable, not billed, spent by ``period_end``; key = external_ref (TE-...);
- milestones: ACCEPTED, billable, due by ``period_end`` (or undated); key = external_ref (MS-...);
- schedule lines (RETAINER, SUBSCRIPTION, FIXED_FEE without milestones; not from a
  MILESTONE or PERIODIC schedule): due by ``period_end``; key = ``BS-<engagement>-<date>``;
- expenses: approved, billable, not billed, spent by ``period_end``; key = external_ref.

A record without an external_ref is keyed by its system id (``time:<id>``,
``milestone:<id>``, ``expense:<id>``). A time entry or expense whose own record
says unbilled but whose key is on a posted invoice is left out and reported
(ALREADY_BILLED); milestones and schedule lines have no billed flag of their own,
so for them a posted invoice is simply what "billed" means. Records sharing a key
are all left out (DUPLICATE_INPUT); a record in another currency or without an
amount is left out and reported. A record of another engagement is a caller bug.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from domain.governance import Role
from domain.ids import EngagementKey
from domain.models import (
    ApprovalStatus,
    BillingModel,
    BillingScheduleKind,
    BillingScheduleLine,
    Expense,
    Milestone,
    MilestoneState,
    TimeEntry,
)
from domain.money import Money
from workflows.billing_types import BillingInputs, RuleViolation, ViolationCode

__all__ = [
    "FEE_ITEMS",
    "Selection",
    "expense_key",
    "milestone_key",
    "schedule_key",
    "select_inputs",
    "time_key",
]

FEE_ITEMS: dict[BillingModel, str] = {
    BillingModel.RETAINER: "RETAINER",
    BillingModel.SUBSCRIPTION: "SUBSCRIPTION",
    BillingModel.FIXED_FEE: "FIXED_FEE",
}

R = TypeVar("R", TimeEntry, Milestone, BillingScheduleLine, Expense)


def time_key(entry: TimeEntry) -> str:
    return entry.external_ref or f"time:{entry.id}"


def milestone_key(milestone: Milestone) -> str:
    return milestone.external_ref or f"milestone:{milestone.id}"


def expense_key(expense: Expense) -> str:
    return expense.external_ref or f"expense:{expense.id}"


def schedule_key(engagement_key: EngagementKey, line: BillingScheduleLine) -> str:
    return f"BS-{engagement_key}-{line.date.isoformat()}"


@dataclass(frozen=True, slots=True)
class Selection:
    """The inputs to price, as (key, record) in date order, and what was left out why."""

    time_entries: tuple[tuple[str, TimeEntry], ...]
    milestones: tuple[tuple[str, Milestone], ...]
    schedule_lines: tuple[tuple[str, BillingScheduleLine], ...]
    expenses: tuple[tuple[str, Expense], ...]
    violations: tuple[RuleViolation, ...]


class _Screen:
    """Filters (key, record) pairs, remembering per rule which keys it left out."""

    def __init__(self) -> None:
        self._left_out: dict[tuple[ViolationCode, Role, str], list[str]] = {}

    def keep(
        self,
        items: Iterable[tuple[str, R]],
        rule: tuple[ViolationCode, Role, str] | None,
        out: Callable[[str, R], bool],
    ) -> list[tuple[str, R]]:
        """The items ``out`` does not reject; rejected keys are reported under ``rule``
        (or dropped silently when ``rule`` is None)."""
        kept: list[tuple[str, R]] = []
        for key, record in items:
            if not out(key, record):
                kept.append((key, record))
            elif rule is not None:
                self._left_out.setdefault(rule, []).append(key)
        return kept

    def violations(self) -> tuple[RuleViolation, ...]:
        return tuple(
            RuleViolation(
                code=code,
                message=f"{what}: {', '.join(sorted(set(keys)))}",
                owner_role=owner,
                input_keys=tuple(sorted(set(keys))),
            )
            for (code, owner, what), keys in self._left_out.items()
        )


def _bills_schedule(inputs: BillingInputs) -> bool:
    if inputs.schedule_kind in (BillingScheduleKind.MILESTONE, BillingScheduleKind.PERIODIC):
        return False
    if inputs.billing_model is BillingModel.FIXED_FEE:
        return not inputs.milestones
    return inputs.billing_model in FEE_ITEMS


def _billed_fee_lines(inputs: BillingInputs) -> set[tuple[int, int, str]]:
    """(year, month, description) of the fee lines on the engagement's posted invoices."""
    fee_items = set(FEE_ITEMS.values())
    return {
        (invoice.tran_date.year, invoice.tran_date.month, line.description)
        for invoice in inputs.invoices
        if invoice.engagement_key == inputs.engagement_key
        for line in invoice.lines
        if line.item in fee_items
    }


def _due(
    inputs: BillingInputs,
) -> tuple[
    list[tuple[str, TimeEntry]],
    list[tuple[str, Milestone]],
    list[tuple[str, BillingScheduleLine]],
    list[tuple[str, Expense]],
]:
    end, own = inputs.period_end, inputs.engagement_key
    for kind, records in (
        ("time entry", inputs.time_entries),
        ("milestone", inputs.milestones),
        ("expense", inputs.expenses),
    ):
        for record in records:
            if record.engagement_key not in (None, own):
                raise ValueError(f"{kind} {record.id} is {record.engagement_key}'s, not {own}'s")
    times = [
        (time_key(t), t)
        for t in inputs.time_entries
        if t.approval is ApprovalStatus.APPROVED
        and t.billable
        and not t.billed
        and t.spent_date <= end
    ]
    milestones = [
        (milestone_key(m), m)
        for m in inputs.milestones
        if m.state is MilestoneState.ACCEPTED
        and m.billable
        and (m.due_date is None or m.due_date <= end)
    ]
    billed = _billed_fee_lines(inputs)
    fees = [
        (schedule_key(own, line), line)
        for line in (inputs.schedule_lines if _bills_schedule(inputs) else ())
        if line.date <= end and (line.date.year, line.date.month, line.description) not in billed
    ]
    expenses = [
        (expense_key(x), x)
        for x in inputs.expenses
        if x.approved and x.billable and not x.billed and x.spent_date <= end
    ]
    return times, milestones, fees, expenses


def select_inputs(inputs: BillingInputs) -> Selection:
    """The governed inputs of the draft, screened by the rules in the module docstring."""
    times, milestones, fees, expenses = _due(inputs)
    screen, sources, cur = _Screen(), inputs.billed_sources, inputs.currency
    billed = (ViolationCode.ALREADY_BILLED, Role.FINANCE, "already on a posted invoice, left out")
    times = screen.keep(times, billed, lambda key, _: key in sources)
    expenses = screen.keep(expenses, billed, lambda key, _: key in sources)
    milestones = screen.keep(milestones, None, lambda key, _: key in sources)
    fees = screen.keep(fees, None, lambda key, _: key in sources)
    counts = Counter(key for key, _ in (*times, *milestones, *fees, *expenses))
    twice = (ViolationCode.DUPLICATE_INPUT, Role.FINANCE, "input keys on several records, left out")
    times = screen.keep(times, twice, lambda key, _: counts[key] > 1)
    milestones = screen.keep(milestones, twice, lambda key, _: counts[key] > 1)
    fees = screen.keep(fees, twice, lambda key, _: counts[key] > 1)
    expenses = screen.keep(expenses, twice, lambda key, _: counts[key] > 1)
    no_amount = "no amount, left out"
    milestones = screen.keep(
        milestones,
        (ViolationCode.UNPRICED_INPUT, Role.PMO, f"milestones with {no_amount}"),
        lambda _, m: m.amount is None,
    )
    fees = screen.keep(
        fees,
        (ViolationCode.UNPRICED_INPUT, Role.FINANCE, f"schedule lines with {no_amount}"),
        lambda _, line: line.amount is None,
    )
    foreign = (ViolationCode.CURRENCY_MISMATCH, Role.FINANCE, f"amounts not in {cur}, left out")
    milestones = screen.keep(milestones, foreign, lambda _, m: _currency(m.amount) != cur)
    fees = screen.keep(fees, foreign, lambda _, line: _currency(line.amount) != cur)
    expenses = screen.keep(expenses, foreign, lambda _, x: x.amount.currency != cur)
    return Selection(
        time_entries=tuple(sorted(times, key=lambda item: (item[1].spent_date, item[0]))),
        milestones=tuple(
            sorted(milestones, key=lambda item: (item[1].due_date or inputs.period_end, item[0]))
        ),
        schedule_lines=tuple(sorted(fees, key=lambda item: (item[1].date, item[0]))),
        expenses=tuple(sorted(expenses, key=lambda item: (item[1].spent_date, item[0]))),
        violations=screen.violations(),
    )


def _currency(amount: Money | None) -> str | None:
    return amount.currency if amount is not None else None
