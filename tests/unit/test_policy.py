"""Pre-win policy checks, one outcome per check, and allocation peaks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import ServiceCatalog
from domain.governance import CheckOutcome, Role
from domain.ids import CustomerKey, EngagementKey, RecordId
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
    RateCardRate,
)
from domain.money import Money
from gateway.catalog import load_catalog
from workflows.policy import (
    CHECK_ORDER,
    WinInputs,
    WinReadiness,
    check_over_allocation,
    evaluate_win_readiness,
    peak_allocation,
)

CATALOG: ServiceCatalog = load_catalog()
CLOUD_ROLES = ("Principal", "Architect", "Senior Consultant", "Engineer", "Consultant")
START, END = date(2026, 11, 2), date(2027, 2, 26)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def opportunity(**changes: Any) -> Opportunity:
    fields: dict[str, Any] = {
        "id": RecordId("006A"),
        "engagement_key": EngagementKey("ENG-2026-00042"),
        "account_id": RecordId("001A"),
        "name": "Acme - AWS Migration",
        "stage": "Negotiation/Review",
        "is_won": False,
        "is_closed": False,
        "amount": usd("120000.00"),
        "close_date": date(2026, 10, 30),
        "probability": 75,
        "billing_model": BillingModel.TIME_AND_MATERIALS,
        "service_line": "CLOUD",
        "legal_entity": "US",
        "rate_card_version": "RC-2026",
        "invoiced_amount": None,
        "customer_key": CustomerKey("CUST-0007"),
        "start_date": START,
        "end_date": END,
    }
    fields.update(changes)
    return Opportunity(**fields)


def customer(**changes: Any) -> Customer:
    fields: dict[str, Any] = {
        "id": RecordId("77"),
        "key": CustomerKey("CUST-0007"),
        "name": "Acme Corp",
        "legal_entity": "US",
        "currency": "USD",
        "status": CustomerStatus.ACTIVE,
        "tax_jurisdiction": "US-NY",
    }
    fields.update(changes)
    return Customer(**fields)


ENTITIES = (
    LegalEntity(id=RecordId("1"), code="US", name="Inc.", country="US", currency="USD"),
    LegalEntity(id=RecordId("2"), code="UK", name="Ltd", country="GB", currency="GBP"),
)


def card(
    version: str = "RC-2026", currency: str = "USD", roles: tuple[str, ...] = CLOUD_ROLES
) -> RateCard:
    return RateCard(
        id=RecordId(f"{version}-{currency}"),
        version=version,
        currency=currency,
        rates=tuple(RateCardRate(role=r, rate=Money.of("200.00", currency)) for r in roles),
    )


def person(pid: str, role: str, active: bool = True) -> Person:
    return Person(id=RecordId(pid), email=f"{pid}@nw.test", name=pid, role=role, active=active)


PEOPLE = tuple(person(f"P-{i}", role) for i, role in enumerate(CLOUD_ROLES))


def booking(pid: str, percent: int | None, start: date | None, end: date | None) -> Assignment:
    return Assignment(
        id=RecordId(f"A-{pid}-{percent}-{start}"),
        engagement_key=EngagementKey("ENG-2026-00001"),
        project_id=RecordId("9"),
        person_id=RecordId(pid),
        role=None,
        allocation_percent=percent,
        start_date=start,
        end_date=end,
    )


def line(amount: str, day: date | None = date(2026, 12, 15)) -> OpportunityLine:
    return OpportunityLine(
        id=RecordId(f"L{amount}"),
        opportunity_id=RecordId("006A"),
        description="Go-live",
        service_date=day,
        amount=usd(amount),
    )


def inputs(**changes: Any) -> WinInputs:
    base = WinInputs(
        opportunity=opportunity(),
        customer=customer(),
        legal_entities=ENTITIES,
        rate_cards=(card(), card("RC-2025")),
        people=PEOPLE,
        allocations=(),
        lines=(),
        catalog=CATALOG,
    )
    return replace(base, **changes)


def check(result: WinReadiness, name: str) -> CheckOutcome:
    return next(c for c in result.checks if c.name == name)


def only_failure(win: WinInputs) -> CheckOutcome:
    result = evaluate_win_readiness(win)
    assert not result.ready
    assert len(result.failures) == 1, [f.reason for f in result.failures]
    return result.failures[0]


# --- the whole evaluation -------------------------------------------------------------


def test_a_clean_deal_passes_all_seven_checks_in_order() -> None:
    result = evaluate_win_readiness(inputs())
    assert [c.name for c in result.checks] == list(CHECK_ORDER)
    assert len(CHECK_ORDER) == 7
    assert result.ready
    assert result.failures == ()
    assert result.opportunity_id == "006A"
    assert result.engagement_key == "ENG-2026-00042"
    owners = [c.owner_role for c in result.checks]
    assert owners == [
        Role.MASTER_DATA,
        Role.MASTER_DATA,
        Role.SALES_OPS,
        Role.MASTER_DATA,
        Role.SALES_OPS,
        Role.SALES_OPS,
        Role.RESOURCE_MANAGER,
    ]


# --- CUSTOMER_MASTER_STATUS ------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [CustomerStatus.ON_HOLD, CustomerStatus.PROSPECT, CustomerStatus.INACTIVE]
)
def test_a_customer_not_active_fails_the_master_status_check(status: CustomerStatus) -> None:
    failure = only_failure(inputs(customer=customer(status=status)))
    assert failure.name == "CUSTOMER_MASTER_STATUS"
    assert failure.owner_role is Role.MASTER_DATA
    assert failure.reason == f"customer CUST-0007 (Acme Corp) is {status.value}, not ACTIVE"


def test_a_missing_customer_fails_every_check_that_needs_it_naming_the_key() -> None:
    result = evaluate_win_readiness(inputs(customer=None))
    failed = {f.name: f for f in result.failures}
    assert set(failed) == {"CUSTOMER_MASTER_STATUS", "LEGAL_ENTITY_MAPPING", "TAX_JURISDICTION"}
    assert failed["CUSTOMER_MASTER_STATUS"].reason == "no ERP customer has the master key CUST-0007"
    assert all(f.owner_role is Role.MASTER_DATA for f in failed.values())
    assert all("CUST-0007" in f.reason for f in failed.values())


def test_an_account_without_customer_key_says_so() -> None:
    win = inputs(customer=None, opportunity=opportunity(customer_key=None))
    reason = check(evaluate_win_readiness(win), "CUSTOMER_MASTER_STATUS").reason
    assert reason == "the opportunity's account is not linked to a customer master key"


# --- LEGAL_ENTITY_MAPPING ---------------------------------------------------------------


def test_an_unknown_legal_entity_fails_naming_it_and_the_known_ones() -> None:
    win = inputs(opportunity=opportunity(legal_entity="FR"), customer=customer(legal_entity="FR"))
    failure = only_failure(win)
    assert failure.name == "LEGAL_ENTITY_MAPPING"
    assert failure.reason == "legal entity 'FR' is not an ERP legal entity (known: UK, US)"


def test_a_customer_of_another_legal_entity_fails_the_mapping() -> None:
    failure = only_failure(inputs(customer=customer(legal_entity="UK")))
    assert failure.name == "LEGAL_ENTITY_MAPPING"
    assert failure.owner_role is Role.MASTER_DATA
    assert failure.reason == "customer CUST-0007 (Acme Corp) belongs to legal entity 'UK', not 'US'"


def test_a_deal_currency_other_than_the_entitys_fails_the_mapping() -> None:
    gbp_card = card(currency="GBP")
    win = inputs(opportunity=opportunity(amount=Money.of("1000", "GBP")), rate_cards=(gbp_card,))
    failure = only_failure(win)
    assert failure.name == "LEGAL_ENTITY_MAPPING"
    assert failure.reason == "deal currency GBP differs from US's currency USD"


def test_a_deal_without_legal_entity_fails_the_mapping() -> None:
    result = evaluate_win_readiness(inputs(opportunity=opportunity(legal_entity=None)))
    failure = check(result, "LEGAL_ENTITY_MAPPING")
    assert not failure.passed
    assert failure.reason.startswith("the opportunity has no legal entity")


# --- SERVICE_LINE_CLASSIFICATION -----------------------------------------------------


def test_a_service_line_outside_the_catalogue_fails_for_sales_ops() -> None:
    result = evaluate_win_readiness(inputs(opportunity=opportunity(service_line="QUANTUM")))
    failure = check(result, "SERVICE_LINE_CLASSIFICATION")
    assert not failure.passed
    assert failure.owner_role is Role.SALES_OPS
    assert failure.reason == "service line 'QUANTUM' is not in the service catalogue"
    # the checks that depend on the service line fail closed, saying why
    for name in ("BILLING_MODEL", "RATE_CARD_VERSION", "DELIVERY_READINESS"):
        dependent = check(result, name)
        assert not dependent.passed
        assert "'QUANTUM' is not in the service catalogue" in dependent.reason


def test_a_missing_service_line_fails_classification() -> None:
    result = evaluate_win_readiness(inputs(opportunity=opportunity(service_line=None)))
    assert check(result, "SERVICE_LINE_CLASSIFICATION").reason == (
        "the opportunity has no service line"
    )


# --- TAX_JURISDICTION ------------------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", [None, "", "  "])
def test_a_customer_without_tax_jurisdiction_fails_for_master_data(
    jurisdiction: str | None,
) -> None:
    failure = only_failure(inputs(customer=customer(tax_jurisdiction=jurisdiction)))
    assert failure.name == "TAX_JURISDICTION"
    assert failure.owner_role is Role.MASTER_DATA
    assert failure.reason == "customer CUST-0007 (Acme Corp) has no tax jurisdiction"


# --- BILLING_MODEL ---------------------------------------------------------------------


def test_a_billing_model_the_service_line_is_not_sold_under_fails() -> None:
    failure = only_failure(inputs(opportunity=opportunity(billing_model=BillingModel.RETAINER)))
    assert failure.name == "BILLING_MODEL"
    assert failure.owner_role is Role.SALES_OPS
    assert failure.reason == (
        "RETAINER is not allowed for CLOUD (allowed: TIME_AND_MATERIALS, FIXED_FEE, MILESTONE)"
    )


def test_a_deal_without_billing_model_fails() -> None:
    failure = only_failure(inputs(opportunity=opportunity(billing_model=None)))
    assert failure.reason == "the opportunity has no billing model"


def test_a_milestone_deal_with_dated_lines_summing_to_the_amount_passes() -> None:
    win = inputs(
        opportunity=opportunity(billing_model=BillingModel.MILESTONE),
        lines=(line("70000.00"), line("50000.00", None)),
    )
    assert evaluate_win_readiness(win).ready


def test_a_milestone_deal_without_lines_fails_twice_over() -> None:
    failure = only_failure(inputs(opportunity=opportunity(billing_model=BillingModel.MILESTONE)))
    assert failure.name == "BILLING_MODEL"
    assert failure.reason == (
        "a MILESTONE deal needs at least one dated line; "
        "MILESTONE lines sum to 0 USD, the deal is 120000.00 USD"
    )


def test_a_milestone_deal_with_only_undated_lines_fails() -> None:
    win = inputs(
        opportunity=opportunity(billing_model=BillingModel.MILESTONE),
        lines=(line("120000.00", None),),
    )
    assert only_failure(win).reason == "a MILESTONE deal needs at least one dated line"


def test_milestone_lines_one_cent_short_of_the_amount_fail() -> None:
    win = inputs(
        opportunity=opportunity(billing_model=BillingModel.MILESTONE),
        lines=(line("119999.99"),),
    )
    assert only_failure(win).reason == (
        "MILESTONE lines sum to 119999.99 USD, the deal is 120000.00 USD"
    )


def test_fixed_fee_without_lines_passes_but_lines_must_sum_to_the_amount() -> None:
    fixed = opportunity(billing_model=BillingModel.FIXED_FEE)
    assert evaluate_win_readiness(inputs(opportunity=fixed)).ready
    short = inputs(opportunity=fixed, lines=(line("100000.00"),))
    assert only_failure(short).reason == (
        "FIXED_FEE lines sum to 100000.00 USD, the deal is 120000.00 USD"
    )


def test_lines_in_another_currency_fail_without_raising() -> None:
    foreign = OpportunityLine(
        id=RecordId("L1"),
        opportunity_id=RecordId("006A"),
        description="Go-live",
        service_date=START,
        amount=Money.of("120000.00", "EUR"),
    )
    win = inputs(opportunity=opportunity(billing_model=BillingModel.MILESTONE), lines=(foreign,))
    assert only_failure(win).reason == "deal lines are in EUR, the deal is in USD"


def test_a_milestone_deal_without_amount_fails() -> None:
    win = inputs(
        opportunity=opportunity(billing_model=BillingModel.MILESTONE, amount=None),
        lines=(line("1.00"),),
    )
    assert only_failure(win).reason == "a MILESTONE deal needs an amount"


# --- RATE_CARD_VERSION -----------------------------------------------------------------


def test_a_deal_without_rate_card_version_fails_for_sales_ops() -> None:
    failure = only_failure(inputs(opportunity=opportunity(rate_card_version=None)))
    assert failure.name == "RATE_CARD_VERSION"
    assert failure.owner_role is Role.SALES_OPS
    assert failure.reason == "the opportunity has no rate card version"


def test_a_version_missing_in_the_deal_currency_fails_naming_what_exists() -> None:
    win = inputs(rate_cards=(card(currency="GBP"), card(currency="EUR")))
    assert only_failure(win).reason == "no RC-2026 rate card in USD (found in: EUR, GBP)"


def test_an_unknown_version_fails() -> None:
    failure = only_failure(inputs(opportunity=opportunity(rate_card_version="RC-1999")))
    assert failure.reason == "no RC-1999 rate card in USD (found in: none)"


def test_a_card_lacking_roles_of_the_service_line_fails_naming_them() -> None:
    thin = card(roles=("Principal", "Senior Consultant", "Consultant"))
    failure = only_failure(inputs(rate_cards=(thin,)))
    assert failure.reason == "RC-2026 (USD) has no rate for Architect, Engineer (CLOUD)"


def test_without_an_amount_the_deal_currency_is_the_legal_entitys() -> None:
    win = inputs(opportunity=opportunity(amount=None))
    assert check(evaluate_win_readiness(win), "RATE_CARD_VERSION").passed
    uk = inputs(
        opportunity=opportunity(amount=None, legal_entity="UK"),
        customer=customer(legal_entity="UK"),
    )
    assert check(evaluate_win_readiness(uk), "RATE_CARD_VERSION").reason == (
        "no RC-2026 rate card in GBP (found in: USD)"
    )


# --- DELIVERY_READINESS ----------------------------------------------------------------


def test_a_deal_without_delivery_window_fails_for_the_resource_manager() -> None:
    failure = only_failure(inputs(opportunity=opportunity(start_date=None)))
    assert failure.name == "DELIVERY_READINESS"
    assert failure.owner_role is Role.RESOURCE_MANAGER
    assert failure.reason == "the opportunity has no delivery window (start and end dates)"


def test_a_window_ending_before_it_starts_fails() -> None:
    failure = only_failure(inputs(opportunity=opportunity(start_date=END, end_date=START)))
    assert failure.reason == f"the delivery window ends ({START}) before it starts ({END})"


def test_a_role_nobody_active_holds_fails() -> None:
    people = (*PEOPLE[:3], person("P-3", "Engineer", active=False), PEOPLE[4])
    assert only_failure(inputs(people=people)).reason == "no active Engineer"


def test_a_role_whose_only_person_is_booked_above_the_ceiling_fails() -> None:
    busy = booking("P-1", 60, START, START + timedelta(days=3))  # P-1 is the Architect
    failure = only_failure(inputs(allocations=(busy,)))
    assert failure.reason == (
        f"no Architect has 50% free from {START} to {END} (all 1 active are allocated above 50%)"
    )


def test_exactly_min_free_percent_free_is_enough() -> None:
    half = booking("P-1", 50, START, END)
    assert evaluate_win_readiness(inputs(allocations=(half,))).ready


def test_one_free_person_of_the_role_is_enough() -> None:
    people = (*PEOPLE, person("P-9", "Architect"))
    busy = booking("P-1", 100, START, END)
    assert evaluate_win_readiness(inputs(people=people, allocations=(busy,))).ready


def test_allocations_outside_the_window_do_not_count() -> None:
    before = booking("P-1", 100, START - timedelta(days=30), START - timedelta(days=1))
    assert evaluate_win_readiness(inputs(allocations=(before,))).ready


def test_min_free_percent_is_tunable() -> None:
    quarter = booking("P-1", 30, START, END)
    assert evaluate_win_readiness(inputs(allocations=(quarter,))).ready
    strict = inputs(allocations=(quarter,), min_free_percent=80)
    assert "no Architect has 80% free" in only_failure(strict).reason


# --- peak_allocation and check_over_allocation ------------------------------------------


def test_peak_is_zero_without_allocations() -> None:
    assert peak_allocation(RecordId("P-1"), [], START, END) == 0


def test_peak_sums_only_overlapping_days() -> None:
    day = date(2026, 1, 1)
    rows = [
        booking("P-1", 40, day, day + timedelta(days=9)),
        booking("P-1", 30, day + timedelta(days=9), day + timedelta(days=20)),  # touches day 9
        booking("P-1", 50, day + timedelta(days=10), day + timedelta(days=12)),
        booking("P-2", 100, day, day + timedelta(days=30)),  # someone else
    ]
    person_id = RecordId("P-1")
    assert peak_allocation(person_id, rows, day, day + timedelta(days=30)) == 80
    assert peak_allocation(person_id, rows, day, day + timedelta(days=8)) == 40
    assert peak_allocation(person_id, rows, day + timedelta(days=9), day + timedelta(days=9)) == 70


def test_back_to_back_allocations_do_not_stack() -> None:
    day = date(2026, 1, 1)
    rows = [
        booking("P-1", 60, day, day + timedelta(days=4)),
        booking("P-1", 60, day + timedelta(days=5), day + timedelta(days=9)),
    ]
    assert peak_allocation(RecordId("P-1"), rows, day, day + timedelta(days=9)) == 60


def test_open_ended_and_unset_allocations() -> None:
    rows = [booking("P-1", 20, None, None), booking("P-1", None, START, END)]
    assert peak_allocation(RecordId("P-1"), rows, START, END) == 20


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 100)), max_size=12),
    st.integers(0, 40),
    st.integers(0, 40),
)
def test_peak_equals_the_day_by_day_maximum(
    spans: list[tuple[int, int, int]], window_a: int, window_b: int
) -> None:
    origin = date(2026, 1, 1)
    rows = [
        booking("P-1", pct, origin + timedelta(days=min(a, b)), origin + timedelta(days=max(a, b)))
        for a, b, pct in spans
    ]
    start = origin + timedelta(days=min(window_a, window_b))
    end = origin + timedelta(days=max(window_a, window_b))
    daily = [
        sum(
            r.allocation_percent or 0
            for r in rows
            if r.start_date is not None
            and r.end_date is not None
            and r.start_date <= start + timedelta(days=d) <= r.end_date
        )
        for d in range((end - start).days + 1)
    ]
    assert peak_allocation(RecordId("P-1"), rows, start, end) == max(daily)


def test_over_allocation_up_to_the_threshold_passes() -> None:
    rows = [booking("P-1", 60, START, END)]
    outcome = check_over_allocation(RecordId("P-1"), rows, START, END, 40, 100)
    assert outcome.passed
    assert outcome.name == "OVER_ALLOCATION"
    assert outcome.owner_role is Role.RESOURCE_MANAGER


def test_over_allocation_beyond_the_threshold_is_a_resource_manager_exception() -> None:
    rows = [booking("P-1", 60, START, END)]
    outcome = check_over_allocation(RecordId("P-1"), rows, START, END, 50, 100)
    assert not outcome.passed
    assert outcome.owner_role is Role.RESOURCE_MANAGER
    assert outcome.reason == (
        f"person P-1 would peak at 110% from {START} to {END} (60% booked + 50%), "
        "above the 100% threshold"
    )
    assert check_over_allocation(RecordId("P-1"), rows, START, END, 50, 120).passed


def test_readiness_is_a_frozen_value() -> None:
    result = evaluate_win_readiness(inputs())
    with pytest.raises(ValueError, match="frozen"):
        result.checks = ()  # type: ignore[misc]
