"""The billing engine: governed inputs, lines priced like the firm invoices, contract rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.governance import Role
from domain.ids import EngagementKey, RecordId
from domain.models import (
    ApprovalStatus,
    BillingModel,
    BillingScheduleKind,
    BillingScheduleLine,
    Expense,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Milestone,
    MilestoneState,
    RateCard,
    RateCardRate,
    TimeEntry,
)
from domain.money import Money
from sandboxes.firm import Firm
from sandboxes.firm import Invoice as SeedInvoice
from workflows.billing_rules import (
    BillingInputs,
    DraftComputation,
    RuleViolation,
    ViolationCode,
    build_draft,
)

KEY = EngagementKey("ENG-2026-00042")
PERIOD_END = date(2026, 10, 31)
ROLES = {RecordId("p-arch"): "Architect", RecordId("p-eng"): "Engineer", RecordId("p-x"): "Partner"}


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


CARD = RateCard(
    id=RecordId("rc"),
    version="RC-2026",
    currency="USD",
    rates=(
        RateCardRate(role="Architect", rate=usd("318.00")),
        RateCardRate(role="Engineer", rate=usd("233.20")),
    ),
)


def entry(ref: str, person: str = "p-eng", hours: str = "8", **changes: Any) -> TimeEntry:
    fields: dict[str, Any] = {
        "id": RecordId(ref.lower()),
        "external_ref": ref,
        "engagement_key": KEY,
        "person_id": RecordId(person),
        "person_name": person,
        "spent_date": date(2026, 10, 5),
        "hours": Decimal(hours),
        "billable": True,
        "approval": ApprovalStatus.APPROVED,
        "locked": True,
        "billed": False,
        "invoice_ref": None,
        "bill_rate": None,
        "cost_rate": None,
    }
    fields.update(changes)
    return TimeEntry(**fields)


def expense(ref: str, amount: str, category: str | None = "Travel", **changes: Any) -> Expense:
    fields: dict[str, Any] = {
        "id": RecordId(ref.lower()),
        "external_ref": ref,
        "engagement_key": KEY,
        "person_id": RecordId("p-eng"),
        "spent_date": date(2026, 10, 7),
        "amount": usd(amount),
        "category": category,
        "billable": True,
        "approved": True,
        "billed": False,
    }
    fields.update(changes)
    return Expense(**fields)


def milestone(ref: str, amount: str | None = "25000.00", **changes: Any) -> Milestone:
    fields: dict[str, Any] = {
        "id": RecordId(ref.lower()),
        "engagement_key": KEY,
        "project_id": RecordId("ws-1"),
        "title": f"Milestone {ref}",
        "due_date": date(2026, 10, 15),
        "amount": usd(amount) if amount is not None else None,
        "state": MilestoneState.ACCEPTED,
        "external_ref": ref,
    }
    fields.update(changes)
    return Milestone(**fields)


def fee(day: date, amount: str = "5000.00", description: str | None = None) -> BillingScheduleLine:
    label = description or f"Retainer fee {day.year}-{day.month:02d}"
    return BillingScheduleLine(date=day, amount=usd(amount), description=label)


def inputs(**changes: Any) -> BillingInputs:
    base = BillingInputs(
        engagement_key=KEY,
        billing_model=BillingModel.TIME_AND_MATERIALS,
        currency="USD",
        legal_entity_currency="USD",
        rate_card_version="RC-2026",
        rate_card=CARD,
        not_to_exceed=None,
        billed_total=usd("0"),
        period_end=PERIOD_END,
        people_roles=ROLES,
    )
    return replace(base, **changes)


def codes(draft: DraftComputation) -> list[ViolationCode]:
    return [v.code for v in draft.violations]


def violation(draft: DraftComputation, code: ViolationCode) -> RuleViolation:
    return next(v for v in draft.violations if v.code is code)


# --- time and materials -----------------------------------------------------------------


def test_time_is_one_services_line_per_role_at_the_contract_rate_in_card_order() -> None:
    draft = build_draft(
        inputs(
            time_entries=[
                entry("TE-3", "p-eng", "7.5"),
                entry("TE-1", "p-arch", "8"),
                entry("TE-2", "p-eng", "4.25"),
            ]
        )
    )
    assert draft.violations == ()
    assert draft.lines == (
        InvoiceLine(
            description="Architect services 2026-10",
            item="SERVICES",
            quantity=Decimal("8"),
            rate=usd("318.00"),
            amount=usd("2544.00"),
            sources=("TE-1",),
        ),
        InvoiceLine(
            description="Engineer services 2026-10",
            item="SERVICES",
            quantity=Decimal("11.75"),
            rate=usd("233.20"),
            amount=usd("2740.10"),
            sources=("TE-2", "TE-3"),
        ),
    )
    assert draft.total == usd("5284.10")
    assert draft.input_keys == ("TE-1", "TE-2", "TE-3")
    assert draft.postable


@pytest.mark.parametrize(
    "change",
    [
        {"approval": ApprovalStatus.SUBMITTED},
        {"approval": ApprovalStatus.UNSUBMITTED},
        {"billable": False},
        {"billed": True},
        {"spent_date": date(2026, 11, 1)},
    ],
)
def test_time_not_approved_billable_unbilled_and_due_is_not_an_input(
    change: dict[str, Any],
) -> None:
    draft = build_draft(inputs(time_entries=[entry("TE-1", **change), entry("TE-2")]))
    assert draft.input_keys == ("TE-2",)
    assert codes(draft) == []


def test_time_on_the_last_day_of_the_period_is_billed() -> None:
    draft = build_draft(inputs(time_entries=[entry("TE-1", spent_date=PERIOD_END)]))
    assert draft.input_keys == ("TE-1",)


def test_line_amounts_round_half_even_and_the_total_sums_rounded_lines() -> None:
    tiny = CARD.model_copy(
        update={
            "rates": (
                RateCardRate(role="Architect", rate=usd("0.10")),
                RateCardRate(role="Engineer", rate=usd("0.30")),
            )
        }
    )
    draft = build_draft(
        inputs(
            rate_card=tiny,
            time_entries=[entry("TE-1", "p-arch", "0.25"), entry("TE-2", "p-eng", "0.25")],
        )
    )
    # 0.025 -> 0.02 (to even), 0.075 -> 0.08 (to even); unrounded they would sum to 0.10
    assert [line.amount for line in draft.lines] == [usd("0.02"), usd("0.08")]
    assert draft.total == usd("0.10")
    odd = build_draft(inputs(rate_card=tiny, time_entries=[entry("TE-1", "p-arch", "0.35")]))
    assert odd.lines[0].amount == usd("0.04")  # 0.035 -> 0.04
    assert odd.lines[0].rate == usd("0.10")  # the rate itself is never rounded


def test_entries_without_external_ref_are_keyed_by_their_system_id() -> None:
    draft = build_draft(inputs(time_entries=[entry("TE-9", external_ref=None)]))
    assert draft.input_keys == ("time:te-9",)


# --- rate card rules --------------------------------------------------------------------


def test_a_missing_rate_card_leaves_time_out_and_is_a_finance_mismatch() -> None:
    draft = build_draft(inputs(rate_card=None, time_entries=[entry("TE-1")]))
    mismatch = violation(draft, ViolationCode.RATE_CARD_MISMATCH)
    assert mismatch.owner_role is Role.FINANCE
    assert mismatch.message == "no RC-2026 rate card in USD was found; time left out: TE-1"
    assert mismatch.input_keys == ("TE-1",)
    assert codes(draft) == [ViolationCode.RATE_CARD_MISMATCH, ViolationCode.NOTHING_TO_BILL]


def test_a_card_of_another_version_or_currency_is_not_the_contracts() -> None:
    for wrong in (
        CARD.model_copy(update={"version": "RC-2025"}),
        CARD.model_copy(update={"currency": "EUR"}),
    ):
        draft = build_draft(inputs(rate_card=wrong, time_entries=[entry("TE-1")]))
        message = violation(draft, ViolationCode.RATE_CARD_MISMATCH).message
        assert "is not the contract's RC-2026 (USD)" in message
        assert draft.lines == ()


def test_a_rate_card_problem_without_time_to_price_is_not_reported() -> None:
    draft = build_draft(inputs(rate_card=None, expenses=[expense("EX-1", "10.00")]))
    assert codes(draft) == []


def test_a_role_the_card_does_not_price_is_left_out() -> None:
    draft = build_draft(inputs(time_entries=[entry("TE-1", "p-x"), entry("TE-2")]))
    mismatch = violation(draft, ViolationCode.RATE_CARD_MISMATCH)
    assert mismatch.message == "RC-2026 (USD) has no rate for Partner; time left out: TE-1"
    assert draft.input_keys == ("TE-2",)
    assert not draft.postable


def test_time_recorded_at_another_rate_is_billed_at_the_contract_rate_and_blocks() -> None:
    draft = build_draft(
        inputs(time_entries=[entry("TE-1", bill_rate=usd("220.00")), entry("TE-2")])
    )
    mismatch = violation(draft, ViolationCode.RATE_CARD_MISMATCH)
    assert mismatch.message == (
        "Engineer time recorded at 220.00 USD, not the RC-2026 rate 233.20 USD: TE-1"
    )
    assert mismatch.input_keys == ("TE-1",)
    assert draft.lines[0].rate == usd("233.20")
    assert draft.input_keys == ("TE-1", "TE-2")
    assert draft.blocking == (mismatch,)


def test_a_person_without_role_is_unpriced_for_the_resource_manager() -> None:
    draft = build_draft(inputs(time_entries=[entry("TE-1", "p-nobody")]))
    unpriced = violation(draft, ViolationCode.UNPRICED_INPUT)
    assert unpriced.owner_role is Role.RESOURCE_MANAGER
    assert unpriced.input_keys == ("TE-1",)


# --- milestones and schedules -----------------------------------------------------------


def test_accepted_milestones_are_one_line_each() -> None:
    draft = build_draft(
        inputs(
            billing_model=BillingModel.MILESTONE,
            milestones=[
                milestone("MS-2", "10000.005"),
                milestone("MS-1", due_date=date(2026, 10, 1)),
                milestone("MS-3", state=MilestoneState.COMPLETED),
                milestone("MS-4", billable=False),
                milestone("MS-5", due_date=date(2026, 11, 30)),
            ],
        )
    )
    assert [(ln.description, ln.item, ln.amount, ln.sources) for ln in draft.lines] == [
        ("Milestone MS-1", "MILESTONE", usd("25000.00"), ("MS-1",)),
        ("Milestone MS-2", "MILESTONE", usd("10000.00"), ("MS-2",)),
    ]
    assert draft.total == usd("35000.00")


def test_fixed_fee_milestones_are_billed_as_fixed_fee_and_the_schedule_is_not() -> None:
    draft = build_draft(
        inputs(
            billing_model=BillingModel.FIXED_FEE,
            milestones=[milestone("MS-1")],
            schedule_lines=[fee(date(2026, 10, 15), "25000.00", "Milestone MS-1")],
            schedule_kind=BillingScheduleKind.FIXED,
        )
    )
    assert [(ln.item, ln.sources) for ln in draft.lines] == [("FIXED_FEE", ("MS-1",))]


def test_a_milestone_on_a_posted_invoice_is_billed_not_an_exception() -> None:
    draft = build_draft(
        inputs(
            billing_model=BillingModel.MILESTONE,
            milestones=[milestone("MS-1"), milestone("MS-2")],
            billed_sources=frozenset({"MS-1"}),
        )
    )
    assert draft.input_keys == ("MS-2",)
    assert codes(draft) == []


def test_a_milestone_without_amount_is_reported_to_the_pmo() -> None:
    draft = build_draft(
        inputs(billing_model=BillingModel.MILESTONE, milestones=[milestone("MS-1", None)])
    )
    unpriced = violation(draft, ViolationCode.UNPRICED_INPUT)
    assert unpriced.owner_role is Role.PMO
    assert unpriced.input_keys == ("MS-1",)


@pytest.mark.parametrize(
    ("model", "item"),
    [
        (BillingModel.RETAINER, "RETAINER"),
        (BillingModel.SUBSCRIPTION, "SUBSCRIPTION"),
        (BillingModel.FIXED_FEE, "FIXED_FEE"),
    ],
)
def test_schedule_lines_due_are_one_fee_line_each(model: BillingModel, item: str) -> None:
    draft = build_draft(
        inputs(
            billing_model=model,
            schedule_kind=BillingScheduleKind.RECURRING,
            schedule_lines=[fee(date(2026, 9, 30)), fee(PERIOD_END), fee(date(2026, 11, 30))],
        )
    )
    assert [(ln.description, ln.item, ln.amount, ln.sources) for ln in draft.lines] == [
        ("Retainer fee 2026-09", item, usd("5000.00"), (f"BS-{KEY}-2026-09-30",)),
        ("Retainer fee 2026-10", item, usd("5000.00"), (f"BS-{KEY}-2026-10-31",)),
    ]


def test_a_schedule_line_is_billed_by_a_same_month_fee_line_or_its_key() -> None:
    posted = Invoice(
        id=RecordId("inv-1"),
        external_id=f"INV-{KEY}-2026-08",
        engagement_key=KEY,
        customer_id=None,
        tran_id=None,
        tran_date=date(2026, 8, 31),
        due_date=None,
        total=usd("5000.00"),
        amount_remaining=usd("0"),
        status=InvoiceStatus.PAID,
        lines=(
            InvoiceLine(
                description="Retainer fee 2026-08",
                item="RETAINER",
                quantity=Decimal(1),
                rate=usd("5000.00"),
                amount=usd("5000.00"),
            ),
            # same description, but a month later: does not bill September
            InvoiceLine(
                description="Retainer fee 2026-09",
                item="SERVICES",
                quantity=Decimal(1),
                rate=usd("1"),
                amount=usd("1"),
            ),
        ),
    )
    draft = build_draft(
        inputs(
            billing_model=BillingModel.RETAINER,
            schedule_kind=BillingScheduleKind.RECURRING,
            schedule_lines=[fee(date(2026, 8, 31)), fee(date(2026, 9, 30)), fee(PERIOD_END)],
            invoices=[posted],
            billed_sources=frozenset({f"BS-{KEY}-2026-10-31"}),
        )
    )
    assert draft.input_keys == (f"BS-{KEY}-2026-09-30",)
    assert codes(draft) == []


def test_a_time_and_materials_estimate_schedule_is_never_billed() -> None:
    draft = build_draft(
        inputs(schedule_kind=BillingScheduleKind.PERIODIC, schedule_lines=[fee(PERIOD_END)])
    )
    assert draft.lines == ()
    assert codes(draft) == [ViolationCode.NOTHING_TO_BILL]


# --- expenses ---------------------------------------------------------------------------


def test_expenses_are_one_line_per_category_in_category_order() -> None:
    draft = build_draft(
        inputs(
            expenses=[
                expense("EX-3", "40.10", "Travel"),
                expense("EX-1", "12.50", "Meals"),
                expense("EX-2", "300.00", "Travel"),
                expense("EX-4", "99.00", "Travel", approved=False),
                expense("EX-5", "99.00", "Travel", billable=False),
                expense("EX-6", "99.00", "Travel", billed=True),
                expense("EX-7", "99.00", None),
            ]
        )
    )
    assert [
        (ln.description, ln.item, ln.quantity, ln.amount, ln.sources) for ln in draft.lines
    ] == [
        ("Meals expenses 2026-10", "EXPENSE", Decimal(1), usd("12.50"), ("EX-1",)),
        ("Travel expenses 2026-10", "EXPENSE", Decimal(1), usd("340.10"), ("EX-2", "EX-3")),
        ("Uncategorised expenses 2026-10", "EXPENSE", Decimal(1), usd("99.00"), ("EX-7",)),
    ]


def test_an_expense_in_another_currency_is_left_out_as_a_mismatch() -> None:
    foreign = expense("EX-1", "10.00").model_copy(update={"amount": Money.of("10.00", "EUR")})
    draft = build_draft(inputs(expenses=[foreign, expense("EX-2", "5.00")]))
    mismatch = violation(draft, ViolationCode.CURRENCY_MISMATCH)
    assert mismatch.input_keys == ("EX-1",)
    assert draft.total == usd("5.00")


# --- contract rules ---------------------------------------------------------------------


def test_empty_inputs_have_nothing_to_bill() -> None:
    draft = build_draft(inputs())
    assert draft.lines == ()
    assert draft.total == usd("0")
    assert draft.input_keys == ()
    assert codes(draft) == [ViolationCode.NOTHING_TO_BILL]
    assert violation(draft, ViolationCode.NOTHING_TO_BILL).message == (
        f"nothing to bill for {KEY} through 2026-10-31"
    )
    assert not draft.postable


def test_a_contract_currency_other_than_the_legal_entitys_blocks() -> None:
    draft = build_draft(inputs(legal_entity_currency="GBP", time_entries=[entry("TE-1")]))
    mismatch = violation(draft, ViolationCode.CURRENCY_MISMATCH)
    assert mismatch.owner_role is Role.FINANCE
    assert mismatch.message == "contract currency USD is not the legal entity's currency GBP"
    assert draft.lines  # still computed, for the reviewer
    assert draft.blocking == (mismatch,)


def test_reaching_the_cap_exactly_is_allowed() -> None:
    draft = build_draft(
        inputs(
            time_entries=[entry("TE-1", hours="10")],  # 2332.00
            not_to_exceed=usd("10000.00"),
            billed_total=usd("7668.00"),
        )
    )
    assert codes(draft) == []


def test_exceeding_the_cap_by_a_cent_blocks_naming_the_amounts() -> None:
    draft = build_draft(
        inputs(
            time_entries=[entry("TE-1", hours="10")],
            not_to_exceed=usd("10000.00"),
            billed_total=usd("7668.01"),
        )
    )
    cap = violation(draft, ViolationCode.NOT_TO_EXCEED)
    assert cap.owner_role is Role.FINANCE
    assert cap.message == (
        "billed 7668.01 USD + this draft 2332.00 USD = 10000.01 USD exceeds the "
        "not-to-exceed cap 10000.00 USD by 0.01 USD"
    )
    assert cap.input_keys == ("TE-1",)


def test_a_cap_in_another_currency_is_a_mismatch_not_a_crash() -> None:
    draft = build_draft(inputs(time_entries=[entry("TE-1")], not_to_exceed=Money.of("1", "EUR")))
    assert codes(draft) == [ViolationCode.CURRENCY_MISMATCH]


def test_invoicing_into_a_closed_period_is_refused() -> None:
    closed = build_draft(inputs(time_entries=[entry("TE-1")], closed_through=PERIOD_END))
    period = violation(closed, ViolationCode.PERIOD_CLOSED)
    assert (
        period.message
        == "the period ending 2026-10-31 is closed (books are closed through 2026-10-31)"
    )
    assert not closed.postable
    still_open = build_draft(
        inputs(time_entries=[entry("TE-1")], closed_through=date(2026, 10, 30))
    )
    assert codes(still_open) == []


def test_already_billed_inputs_are_left_out_and_reported_without_blocking() -> None:
    draft = build_draft(
        inputs(
            time_entries=[entry("TE-1"), entry("TE-2")],
            expenses=[expense("EX-1", "10.00")],
            billed_sources=frozenset({"TE-1", "EX-1"}),
        )
    )
    assert draft.input_keys == ("TE-2",)
    billed = violation(draft, ViolationCode.ALREADY_BILLED)
    assert billed.input_keys == ("EX-1", "TE-1")
    assert billed.owner_role is Role.FINANCE
    assert not billed.blocking
    assert draft.postable


def test_records_sharing_an_input_key_are_all_left_out() -> None:
    twin = entry("TE-1", "p-arch")
    draft = build_draft(inputs(time_entries=[entry("TE-1"), twin, entry("TE-2")]))
    duplicate = violation(draft, ViolationCode.DUPLICATE_INPUT)
    assert duplicate.input_keys == ("TE-1",)
    assert draft.input_keys == ("TE-2",)


def test_a_record_of_another_engagement_is_a_caller_bug() -> None:
    stranger = entry("TE-1", engagement_key=EngagementKey("ENG-2026-00001"))
    with pytest.raises(ValueError, match="ENG-2026-00001"):
        build_draft(inputs(time_entries=[stranger]))


# --- properties -------------------------------------------------------------------------

_refs = st.sampled_from([f"K-{n}" for n in range(12)])
_cents = st.integers(1, 10**7).map(lambda c: Decimal(c) / 1000)  # sub-cent amounts too
_days = st.integers(1, 31).map(lambda d: date(2026, 10, d))


@settings(max_examples=150, deadline=None)
@given(
    times=st.lists(
        st.tuples(_refs, st.sampled_from(sorted(ROLES)), st.integers(1, 400), st.booleans()),
        max_size=15,
    ),
    spends=st.lists(
        st.tuples(_refs, _cents, st.sampled_from(["Travel", "Meals"]), st.booleans()), max_size=8
    ),
    accepted=st.lists(st.tuples(_refs, _cents, _days), max_size=5),
    fees=st.lists(st.tuples(_days, _cents), max_size=4),
    model=st.sampled_from(list(BillingModel)),
    billed=st.frozensets(_refs),
)
def test_the_total_is_the_sum_of_lines_and_no_input_is_on_two_lines(
    times: list[tuple[str, RecordId, int, bool]],
    spends: list[tuple[str, Decimal, str, bool]],
    accepted: list[tuple[str, Decimal, date]],
    fees: list[tuple[date, Decimal]],
    model: BillingModel,
    billed: frozenset[str],
) -> None:
    draft = build_draft(
        inputs(
            billing_model=model,
            schedule_kind=BillingScheduleKind.RECURRING,
            time_entries=[
                entry(f"TE-{ref}", person, str(Decimal(q) / 4), billed=flag)
                for ref, person, q, flag in times
            ],
            expenses=[
                expense(f"EX-{ref}", str(amount), category, approved=flag)
                for ref, amount, category, flag in spends
            ],
            milestones=[
                milestone(f"MS-{ref}", str(amount), due_date=day) for ref, amount, day in accepted
            ],
            schedule_lines=[fee(day, str(amount)) for day, amount in fees],
            billed_sources=frozenset(f"TE-{ref}" for ref in billed),
        )
    )
    assert draft.total == Money.sum([line.amount for line in draft.lines], "USD")
    sources = [key for line in draft.lines for key in line.sources]
    assert len(sources) == len(set(sources))
    assert draft.input_keys == tuple(sorted(sources))
    assert not set(sources) & {f"TE-{ref}" for ref in billed}
    for line in draft.lines:
        assert line.amount == line.amount.rounded()
        assert line.amount == (line.rate * line.quantity).rounded()
    assert (ViolationCode.NOTHING_TO_BILL in codes(draft)) == (draft.lines == ())


# --- the seeded firm's invoices ---------------------------------------------------------

_FEE_MODELS = {"RETAINER", "SUBSCRIPTION", "FIXED_FEE"}


def _seeded_inputs(firm: Firm, invoice: SeedInvoice) -> BillingInputs:
    """What the engine would have been given for a seeded invoice's month."""
    e = next(e for e in firm.engagements if e.key == invoice.engagement_key)
    cur, key = e.currency, EngagementKey(e.key)
    rates = [r for r in firm.rate_card if r.version == e.rate_card_version and r.currency == cur]
    card = RateCard(
        id=RecordId(e.rate_card_version),
        version=e.rate_card_version,
        currency=cur,
        rates=tuple(RateCardRate(role=r.role, rate=Money.of(r.bill_rate, cur)) for r in rates),
    )
    schedule = next((s for s in firm.billing_schedules if s.engagement_key == e.key), None)
    monthly = schedule is not None and schedule.frequency == "MONTHLY"
    return BillingInputs(
        engagement_key=key,
        billing_model=BillingModel(e.billing_model),
        currency=cur,
        legal_entity_currency=cur,
        rate_card_version=e.rate_card_version,
        rate_card=card,
        not_to_exceed=None,
        billed_total=Money.zero(cur),
        period_end=invoice.period_end,
        time_entries=[
            entry(
                t.key,
                t.person,
                str(t.hours),
                spent_date=t.spent_date,
                engagement_key=key,
                bill_rate=Money.of(t.bill_rate, cur),
            )
            for t in firm.time_entries
            if t.invoice == invoice.key
        ],
        expenses=[
            expense(
                x.key, str(x.amount), x.category, spent_date=x.spent_date, engagement_key=key
            ).model_copy(update={"amount": Money.of(x.amount, cur)})
            for x in firm.expenses
            if x.invoice == invoice.key
        ],
        milestones=[
            milestone(
                m.key, str(m.amount), title=m.title, due_date=m.due_date, engagement_key=key
            ).model_copy(update={"amount": Money.of(m.amount, cur)})
            for m in firm.milestones
            if m.invoice == invoice.key
        ],
        schedule_lines=[
            BillingScheduleLine(
                date=s.date, amount=Money.of(s.amount, cur), description=s.description
            )
            for s in (schedule.lines if schedule is not None and monthly else ())
            if (s.date.year, s.date.month) == (invoice.period_end.year, invoice.period_end.month)
        ],
        schedule_kind=BillingScheduleKind(schedule.kind) if schedule is not None else None,
        people_roles={RecordId(p.key): p.role for p in firm.people},
    )


def test_the_engine_reproduces_every_seeded_invoice(firm: Firm) -> None:
    wrong_rate = {
        key for d in firm.discrepancies if d.kind == "WRONG_RATE_CARD_VERSION" for key in d.records
    }
    compared = flagged = 0
    for invoice in firm.invoices:
        draft = build_draft(_seeded_inputs(firm, invoice))
        sources = {key for line in invoice.lines for key in line.sources}
        if sources & wrong_rate:
            mismatch = violation(draft, ViolationCode.RATE_CARD_MISMATCH)
            assert set(mismatch.input_keys) == sources & wrong_rate
            flagged += 1
            continue
        assert draft.violations == (), invoice.key
        cur = invoice.currency
        assert [
            (ln.description, ln.item, ln.quantity, ln.rate, ln.amount) for ln in draft.lines
        ] == [
            (ln.description, ln.item, ln.quantity, Money.of(ln.rate, cur), Money.of(ln.amount, cur))
            for ln in invoice.lines
        ], invoice.key
        for mine, seeded in zip(draft.lines, invoice.lines, strict=True):
            assert mine.sources == seeded.sources or mine.item in _FEE_MODELS, invoice.key
        assert draft.total == Money.of(invoice.total, cur)
        compared += 1
    assert compared > 400
    assert flagged >= 1
