"""The billing schedule a won deal is set up with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.ids import RecordId
from domain.models import BillingModel, BillingScheduleKind, OpportunityLine
from domain.money import Money
from workflows.activation_plan import month_ends, plan_schedule, split


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def test_month_ends_cover_every_month_of_the_window() -> None:
    assert month_ends(date(2026, 11, 15), date(2027, 2, 3)) == [
        date(2026, 11, 30),
        date(2026, 12, 31),
        date(2027, 1, 31),
        date(2027, 2, 28),
    ]


@given(
    cents=st.integers(min_value=1, max_value=10**9),
    parts=st.integers(min_value=1, max_value=36),
)
def test_a_split_always_sums_to_the_total(cents: int, parts: int) -> None:
    total = Money(amount=Decimal(cents) / 100, currency="USD")
    shares = split(total, parts)
    assert len(shares) == parts
    assert sum(s.amount for s in shares) == total.amount


def test_time_and_materials_gets_monthly_estimates() -> None:
    kind, frequency, lines = plan_schedule(
        BillingModel.TIME_AND_MATERIALS, usd("100000.00"), date(2026, 12, 1), date(2027, 2, 28), []
    )
    assert (kind, frequency) == (BillingScheduleKind.PERIODIC, "MONTHLY")
    assert [line.amount for line in lines] == [usd("33333.33"), usd("33333.33"), usd("33333.34")]


def test_a_milestone_deal_bills_its_dated_lines() -> None:
    lines = [
        OpportunityLine(id=RecordId("00k2"), opportunity_id=RecordId("006"),
                        description="Go-live", service_date=date(2027, 3, 1), amount=usd("600")),
        OpportunityLine(id=RecordId("00k1"), opportunity_id=RecordId("006"),
                        description="Design", service_date=date(2027, 1, 1), amount=usd("400")),
    ]  # fmt: skip
    kind, frequency, schedule = plan_schedule(
        BillingModel.MILESTONE, usd("1000"), date(2026, 12, 1), date(2027, 3, 31), lines
    )
    assert (kind, frequency) == (BillingScheduleKind.MILESTONE, "NONE")
    assert [(s.description, s.date) for s in schedule] == [
        ("Design", date(2027, 1, 1)),
        ("Go-live", date(2027, 3, 1)),
    ]


def test_a_retainer_bills_the_monthly_fee_every_month() -> None:
    kind, frequency, lines = plan_schedule(
        BillingModel.RETAINER, usd("120000"), date(2027, 1, 1), date(2027, 12, 31), []
    )
    assert (kind, frequency) == (BillingScheduleKind.RECURRING, "MONTHLY")
    assert len(lines) == 12 and {line.amount for line in lines} == {usd("10000.00")}
    assert lines[0].description == "Retainer fee 2027-01"
