"""What the billing engine reads and what it answers (see `workflows.billing_rules`).

`BillingInputs` is everything one engagement's draft invoice depends on, read
by the caller from the four systems; `DraftComputation` is the draft and the
contract rules it breaks, as `RuleViolation` items (never exceptions). Every
violation names the role that must act; all but the informational ones
(`INFORMATIONAL`) block posting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.governance import Role
from domain.ids import EngagementKey, RecordId
from domain.models import (
    BillingModel,
    BillingScheduleKind,
    BillingScheduleLine,
    Expense,
    Invoice,
    InvoiceLine,
    Milestone,
    RateCard,
    TimeEntry,
)
from domain.money import Money

__all__ = [
    "INFORMATIONAL",
    "BillingInputs",
    "DraftComputation",
    "RuleViolation",
    "ViolationCode",
]


class ViolationCode(StrEnum):
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"  # contract vs legal entity, or a record's currency
    RATE_CARD_MISMATCH = "RATE_CARD_MISMATCH"  # card missing/wrong, role unpriced, rate differs
    NOT_TO_EXCEED = "NOT_TO_EXCEED"  # billed + draft above the cap
    PERIOD_CLOSED = "PERIOD_CLOSED"  # the draft's period is closed
    ALREADY_BILLED = "ALREADY_BILLED"  # an input already on a posted invoice: left out
    DUPLICATE_INPUT = "DUPLICATE_INPUT"  # two records share one input key: both left out
    UNPRICED_INPUT = "UNPRICED_INPUT"  # no amount (milestone, schedule line) or no role
    NOTHING_TO_BILL = "NOTHING_TO_BILL"  # no line at all


INFORMATIONAL: frozenset[ViolationCode] = frozenset({ViolationCode.ALREADY_BILLED})
"""Reported, but the draft is still postable: the input was already left out."""


class RuleViolation(BaseModel):
    """A contract rule the draft breaks, who must act, and the inputs involved."""

    model_config = ConfigDict(frozen=True)

    code: ViolationCode
    message: str
    owner_role: Role
    input_keys: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        return self.code not in INFORMATIONAL


@dataclass(frozen=True, slots=True)
class BillingInputs:
    """One engagement's billing facts as of ``period_end``, all in the contract currency.

    ``billed_sources`` are the input keys on posted invoices; ``invoices`` are the
    engagement's posted invoices (fee lines of seeded invoices carry no sources,
    so a schedule line is also billed when an invoice of the same month has a
    fee line with its description). ``people_roles`` maps a person id to the
    role its time is priced at.
    """

    engagement_key: EngagementKey
    billing_model: BillingModel
    currency: str  # the contract's
    legal_entity_currency: str
    rate_card_version: str | None  # the contract's
    rate_card: RateCard | None  # the card of that version and currency, if found
    not_to_exceed: Money | None
    billed_total: Money  # what posted invoices already bill for the engagement
    period_end: date
    closed_through: date | None = None  # periods ending on or before it are closed
    time_entries: Sequence[TimeEntry] = ()
    expenses: Sequence[Expense] = ()
    milestones: Sequence[Milestone] = ()
    schedule_lines: Sequence[BillingScheduleLine] = ()
    schedule_kind: BillingScheduleKind | None = None
    people_roles: Mapping[RecordId, str] = field(default_factory=dict)
    billed_sources: frozenset[str] = frozenset()
    invoices: Sequence[Invoice] = ()


@dataclass(frozen=True, slots=True)
class DraftComputation:
    """A draft invoice: lines with their sources, the total, and the rules it breaks.

    ``total`` is the sum of the (already rounded) line amounts; ``input_keys``
    are every source on the lines, sorted, each on exactly one line.
    """

    engagement_key: EngagementKey
    period_end: date
    currency: str
    lines: tuple[InvoiceLine, ...]
    total: Money
    input_keys: tuple[str, ...]
    violations: tuple[RuleViolation, ...]

    @property
    def blocking(self) -> tuple[RuleViolation, ...]:
        """The violations that forbid posting this draft."""
        return tuple(v for v in self.violations if v.blocking)

    @property
    def postable(self) -> bool:
        return not self.blocking
