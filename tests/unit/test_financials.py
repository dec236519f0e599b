"""Financials per billing model, from canonical records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.engagement import Engagement, EngagementStatus
from domain.ids import EngagementKey, RecordId
from domain.models import (
    BillingModel,
    BillingSchedule,
    BillingScheduleKind,
    BillingScheduleLine,
    Invoice,
    InvoiceStatus,
    Milestone,
    MilestoneState,
    Payment,
    UninvoicedWork,
)
from domain.money import CurrencyMismatch, Money
from workflows.financials import FinancialInputs, compute_financials

KEY = EngagementKey("ENG-2026-00001")
TODAY = date(2026, 6, 15)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def engagement(model: BillingModel) -> Engagement:
    return Engagement(
        key=KEY,
        name="Acme",
        status=EngagementStatus.ACTIVE,
        billing_model=model,
        service_line="CLOUD",
        legal_entity="US",
        rate_card_version="RC-2026",
        currency="USD",
        booked_value=usd("100000"),
        close_date=date(2026, 1, 10),
        customer_key=None,
        customer_name=None,
        opportunity_id=RecordId("006"),
        project_id=RecordId("1"),
    )


def invoice(total: str, remaining: str) -> Invoice:
    return Invoice(
        id=RecordId(total),
        external_id=None,
        engagement_key=KEY,
        customer_id=None,
        tran_id=None,
        tran_date=date(2026, 5, 31),
        due_date=None,
        total=usd(total),
        amount_remaining=usd(remaining),
        status=InvoiceStatus.OPEN,
    )


def payment(amount: str) -> Payment:
    return Payment(
        id=RecordId("p" + amount),
        external_id=None,
        customer_id=None,
        engagement_key=KEY,
        tran_date=date(2026, 6, 1),
        amount=usd(amount),
    )


def test_time_and_materials_wip_is_uninvoiced_time_and_expenses() -> None:
    inputs = FinancialInputs(
        invoices=[invoice("8000.00", "0"), invoice("4000.50", "4000.50")],
        payments=[payment("8000.00")],
        uninvoiced=UninvoicedWork(
            engagement_key=KEY,
            hours=Decimal("12.5"),
            time_amount=usd("2500.00"),
            expense_amount=usd("120.35"),
        ),
    )
    f = compute_financials(engagement(BillingModel.TIME_AND_MATERIALS), inputs, TODAY, "USD")
    assert f.billed_to_date == usd("12000.50")
    assert f.unbilled_wip == usd("2620.35")
    assert f.approved_billable_value == f.billed_to_date + f.unbilled_wip
    assert f.collected == usd("8000.00")
    assert f.outstanding == usd("4000.50")
    assert f.booked_value == usd("100000")


def milestone(amount: str, state: MilestoneState) -> Milestone:
    return Milestone(
        id=RecordId(amount),
        engagement_key=KEY,
        project_id=RecordId("1"),
        title="m",
        due_date=None,
        amount=usd(amount),
        state=state,
    )


def test_milestone_wip_is_accepted_milestones_not_yet_billed() -> None:
    inputs = FinancialInputs(
        invoices=[invoice("10000", "0")],
        milestones=[
            milestone("10000", MilestoneState.ACCEPTED),
            milestone("15000", MilestoneState.ACCEPTED),
            milestone("20000", MilestoneState.COMPLETED),
        ],
    )
    f = compute_financials(engagement(BillingModel.MILESTONE), inputs, TODAY, "USD")
    assert f.unbilled_wip == usd("15000")
    assert f.approved_billable_value == usd("25000")


def test_retainer_wip_is_schedule_due_by_today_less_billed_never_negative() -> None:
    lines = tuple(
        BillingScheduleLine(date=date(2026, m, 28), amount=usd("5000"), description=f"{m}")
        for m in range(1, 13)
    )
    schedule = BillingSchedule(
        id=RecordId("s"),
        engagement_key=KEY,
        kind=BillingScheduleKind.RECURRING,
        frequency="MONTHLY",
        lines=lines,
    )
    due_five = compute_financials(
        engagement(BillingModel.RETAINER),
        FinancialInputs(invoices=[invoice("20000", "0")], schedules=[schedule]),
        TODAY,
        "USD",
    )
    assert due_five.unbilled_wip == usd("5000")  # 5 lines due by 15 June, 4 billed
    overbilled = compute_financials(
        engagement(BillingModel.RETAINER),
        FinancialInputs(invoices=[invoice("40000", "0")], schedules=[schedule]),
        TODAY,
        "USD",
    )
    assert overbilled.unbilled_wip == usd("0")


def test_no_records_gives_zeros_in_the_engagement_currency() -> None:
    f = compute_financials(engagement(BillingModel.FIXED_FEE), FinancialInputs(), TODAY, "USD")
    assert f.billed_to_date == usd("0") and f.unbilled_wip == usd("0")
    assert f.currency == "USD"


def test_an_invoice_in_another_currency_is_an_error_not_a_conversion() -> None:
    foreign = invoice("100", "0").model_copy(update={"total": Money.of("100", "EUR")})
    with pytest.raises(CurrencyMismatch):
        compute_financials(
            engagement(BillingModel.FIXED_FEE), FinancialInputs(invoices=[foreign]), TODAY, "USD"
        )
