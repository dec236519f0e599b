"""The demo firm: deterministic, within its target sizes, internally consistent,
and with every planted discrepancy present and true in the data."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandboxes.firm import Discrepancy, Firm, Invoice
from sandboxes.seed import firm_summary, generate_firm, manifest_dict, write_manifest

CENT = Decimal("0.01")
PLANTED_KINDS = {
    "INVOICE_NOT_IN_CRM",
    "PROJECT_WITHOUT_BILLING_SCHEDULE",
    "APPROVED_TIME_UNBILLED_PAST_CUTOFF",
    "WRONG_RATE_CARD_VERSION",
    "DUPLICATE_ERP_CUSTOMER",
    "WON_OPPORTUNITY_WITHOUT_PROJECT",
}


@pytest.fixture(scope="module")
def firm() -> Firm:
    return generate_firm(42)


def planted(firm: Firm, kind: str) -> list[Discrepancy]:
    return [d for d in firm.discrepancies if d.kind == kind]


def planted_records(firm: Firm, kind: str) -> set[str]:
    return {record for d in planted(firm, kind) for record in d.records}


def has_cents(value: Decimal) -> bool:
    return value == value.quantize(CENT) and value.as_tuple().exponent == -2


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_an_equal_firm_and_manifest(firm: Firm) -> None:
    again = generate_firm(42)
    assert again == firm
    assert manifest_dict(again) == manifest_dict(firm)


def test_different_seed_gives_a_different_firm(firm: Firm) -> None:
    other = generate_firm(7)
    assert other.people != firm.people
    assert other.time_entries != firm.time_entries
    assert manifest_dict(other) != manifest_dict(firm)


def test_default_seed_is_42(firm: Firm) -> None:
    assert generate_firm() == firm


# --- sizes and reference data ----------------------------------------------------------------


def test_counts_are_within_the_targets(firm: Firm) -> None:
    summary = firm_summary(firm)
    assert summary["legal_entities"] == 3
    assert summary["service_lines"] == 5
    assert 75 <= summary["people"] <= 90
    assert 55 <= summary["customers"] <= 70
    assert 230 <= summary["opportunities"] <= 270
    assert 110 <= summary["engagements"] <= 130
    assert 18_000 <= summary["time_entries"] <= 22_000
    assert 1_300 <= summary["expenses"] <= 1_700
    assert 450 <= summary["invoices"] <= 560
    assert summary["duplicate_customers"] >= 1
    assert summary == {name: len(getattr(firm, name)) for name in summary}


def test_every_billing_model_is_present_and_time_and_materials_leads(firm: Firm) -> None:
    models = Counter(e.billing_model for e in firm.engagements)
    assert set(models) == {
        "TIME_AND_MATERIALS",
        "FIXED_FEE",
        "MILESTONE",
        "RETAINER",
        "SUBSCRIPTION",
    }
    assert models.most_common(1)[0][0] == "TIME_AND_MATERIALS"


def test_legal_entities_have_their_currency_and_tax_jurisdiction(firm: Firm) -> None:
    entities = {e.code: (e.currency, e.tax_jurisdiction) for e in firm.legal_entities}
    assert entities == {"US": ("USD", "US-NY"), "UK": ("GBP", "GB"), "DE": ("EUR", "DE")}
    assert {loc.legal_entity for loc in firm.locations} == set(entities)
    departments = {d.code for d in firm.departments}
    assert all(line.department in departments for line in firm.service_lines)


def test_rate_card_2026_is_four_to_six_percent_above_2025(firm: Firm) -> None:
    rates = {(r.version, r.role, r.currency): r.bill_rate for r in firm.rate_card}
    roles = {person.role for person in firm.people}
    for (version, role, currency), rate in rates.items():
        assert has_cents(rate)
        if version == "RC-2026":
            uplift = rate / rates[("RC-2025", role, currency)]
            assert Decimal("1.039") <= uplift <= Decimal("1.061")
    assert len(rates) == 2 * len(roles) * 3


def test_people_have_unique_emails_and_capacity(firm: Firm) -> None:
    assert len({p.email for p in firm.people}) == len(firm.people)
    for person in firm.people:
        assert has_cents(person.cost_rate)
        assert person.weekly_capacity_hours == (30 if person.is_contractor else 40)


def test_customers_include_on_hold_prospects_and_incomplete_tax_data(firm: Firm) -> None:
    statuses = Counter(c.status for c in firm.customers)
    assert statuses["ACTIVE"] > statuses["ON_HOLD"] + statuses["PROSPECT"]
    assert statuses["ON_HOLD"] and statuses["PROSPECT"]
    assert any(c.tax_jurisdiction is None for c in firm.customers)


def test_open_pipeline_holds_deals_that_pass_and_fail_the_policy_checks(firm: Firm) -> None:
    customers = {c.key: c for c in firm.customers}
    late = [o for o in firm.opportunities if o.stage in ("Qualification", "Negotiation/Review")]
    valid = [
        o
        for o in late
        if customers[o.customer].status == "ACTIVE" and customers[o.customer].tax_jurisdiction
    ]
    assert valid and len(valid) < len(late)


# --- keys and links --------------------------------------------------------------------------


def test_natural_keys_are_unique(firm: Firm) -> None:
    for keys in (
        [o.engagement_key for o in firm.opportunities],
        [o.key for o in firm.opportunities],
        [c.key for c in firm.customers + firm.duplicate_customers],
        [t.key for t in firm.time_entries],
        [x.key for x in firm.expenses],
        [i.key for i in firm.invoices],
        [a.key for a in firm.assignments],
        [m.key for m in firm.milestones],
        [p.key for p in firm.payments],
    ):
        assert len(set(keys)) == len(keys)


def test_each_won_opportunity_is_an_engagement_with_the_same_key(firm: Firm) -> None:
    won = {o.engagement_key: o for o in firm.opportunities if o.stage == "Closed Won"}
    assert set(won) == {e.key for e in firm.engagements}
    customers = {c.key: c for c in firm.customers}
    for engagement in firm.engagements:
        opportunity = won[engagement.key]
        assert engagement.opportunity == opportunity.key
        assert engagement.currency == customers[engagement.customer].currency
        assert opportunity.amount == engagement.contract_value
        assert opportunity.rate_card_version == engagement.rate_card_version
        if engagement.billing_model in ("RETAINER", "SUBSCRIPTION"):
            assert engagement.monthly_fee is not None


def test_time_is_logged_on_weekdays_by_assigned_people_in_quarter_hours(firm: Firm) -> None:
    staffed = {(a.engagement_key, a.person) for a in firm.assignments}
    start = firm.as_of.replace(year=firm.as_of.year - 1) + timedelta(days=1)
    for entry in firm.time_entries:
        assert (entry.engagement_key, entry.person) in staffed
        assert entry.spent_date.weekday() < 5
        assert start <= entry.spent_date <= firm.as_of
        assert has_cents(entry.hours) and (entry.hours * 4) % 1 == 0
    billable = sum(1 for t in firm.time_entries if t.billable)
    assert billable > len(firm.time_entries) / 2


def test_time_is_approved_except_for_the_last_weeks(firm: Firm) -> None:
    pending = [t.spent_date for t in firm.time_entries if not t.approved]
    assert pending and min(pending) >= firm.as_of - timedelta(days=21)


def test_bill_rates_follow_the_contract_rate_card_except_where_planted(firm: Firm) -> None:
    rates = {(r.version, r.role, r.currency): r.bill_rate for r in firm.rate_card}
    engagements = {e.key: e for e in firm.engagements}
    role = {p.key: p.role for p in firm.people}
    wrong = planted_records(firm, "WRONG_RATE_CARD_VERSION")
    for entry in firm.time_entries:
        engagement = engagements[entry.engagement_key]
        expected = rates[(entry.rate_card_version, role[entry.person], engagement.currency)]
        assert entry.bill_rate == expected
        if entry.key not in wrong:
            assert entry.rate_card_version == engagement.rate_card_version


def test_milestones_sum_to_the_contract_value(firm: Firm) -> None:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for milestone in firm.milestones:
        totals[milestone.engagement_key] += milestone.amount
        assert not milestone.invoice or milestone.accepted
    engagements = {e.key: e for e in firm.engagements}
    for key, total in totals.items():
        assert total == engagements[key].contract_value
    models = {engagements[key].billing_model for key in totals}
    assert models == {"MILESTONE", "FIXED_FEE"}


# --- billing ---------------------------------------------------------------------------------


def test_no_billing_input_is_on_two_invoices_and_each_names_its_invoice(firm: Firm) -> None:
    billed_on: dict[str, str] = {}
    for invoice in firm.invoices:
        for line in invoice.lines:
            for source in line.sources:
                assert source not in billed_on, f"{source} on two invoices"
                billed_on[source] = invoice.key
    named: dict[str, str] = {}
    for inputs in (firm.time_entries, firm.expenses, firm.milestones):
        named.update((item.key, item.invoice) for item in inputs if item.invoice is not None)
    assert named == billed_on


def test_invoice_totals_are_the_sum_of_rounded_lines(firm: Firm) -> None:
    for invoice in firm.invoices:
        assert invoice.lines
        for line in invoice.lines:
            assert line.amount == (line.quantity * line.rate).quantize(CENT, ROUND_HALF_EVEN)
            assert has_cents(line.amount)
        assert invoice.total == sum((line.amount for line in invoice.lines), Decimal(0))
        assert invoice.tran_date == invoice.period_end
        assert invoice.due_date == invoice.tran_date + timedelta(days=30)
        assert invoice.tran_date < firm.as_of


def test_time_lines_bill_hours_at_the_entries_rate(firm: Firm) -> None:
    entries = {t.key: t for t in firm.time_entries}
    for invoice in firm.invoices:
        for line in invoice.lines:
            if line.item == "SERVICES":
                billed = [entries[key] for key in line.sources]
                assert line.quantity == sum((t.hours for t in billed), Decimal(0))
                assert {t.bill_rate for t in billed} == {line.rate}


def test_payments_settle_invoices_consistently(firm: Firm) -> None:
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in firm.payments:
        paid[payment.invoice] += payment.amount
        assert payment.date <= firm.as_of
    statuses = Counter[str]()
    for invoice in firm.invoices:
        assert invoice.amount_remaining == invoice.total - paid.get(invoice.key, Decimal(0))
        assert invoice.status == ("paid" if invoice.amount_remaining == 0 else "open")
        partial = 0 < invoice.amount_remaining < invoice.total
        statuses["partial" if partial else invoice.status] += 1
    assert statuses["paid"] > statuses["open"] > 0 and statuses["partial"] > 0


def test_not_to_exceed_caps_hold(firm: Firm) -> None:
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in firm.invoices:
        billed[invoice.engagement_key] += sum(
            (line.amount for line in invoice.lines if line.item == "SERVICES"), Decimal(0)
        )
    capped = [e for e in firm.engagements if e.not_to_exceed is not None]
    assert capped
    for engagement in capped:
        assert engagement.not_to_exceed is not None
        assert billed[engagement.key] <= engagement.not_to_exceed


def test_schedules_match_the_billing_model(firm: Firm) -> None:
    kinds = {
        "TIME_AND_MATERIALS": {"PERIODIC"},
        "FIXED_FEE": {"FIXED"},
        "MILESTONE": {"MILESTONE"},
        "RETAINER": {"RECURRING"},
        "SUBSCRIPTION": {"RECURRING"},
    }
    engagements = {e.key: e for e in firm.engagements}
    for schedule in firm.billing_schedules:
        engagement = engagements[schedule.engagement_key]
        assert schedule.kind in kinds[engagement.billing_model]
        if schedule.kind != "PERIODIC":
            total = sum((line.amount for line in schedule.lines), Decimal(0))
            assert total == engagement.contract_value


# --- planted discrepancies -------------------------------------------------------------------


def test_every_planted_kind_is_present_a_handful_of_times(firm: Firm) -> None:
    counts = Counter(d.kind for d in firm.discrepancies)
    assert set(counts) == PLANTED_KINDS
    assert all(3 <= count <= 6 for count in counts.values())
    touched = [d.engagement_key for d in firm.discrepancies if d.engagement_key]
    assert len(touched) == len(set(touched))


def test_invoices_missing_from_crm_are_the_gap_in_invoiced_amount(firm: Firm) -> None:
    by_engagement: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in firm.invoices:
        by_engagement[invoice.engagement_key].append(invoice)
    omitted = planted_records(firm, "INVOICE_NOT_IN_CRM")
    for opportunity in firm.opportunities:
        own = by_engagement.get(opportunity.engagement_key, [])
        expected = sum((i.total for i in own if i.key not in omitted), Decimal(0))
        assert opportunity.invoiced_amount == expected
    for discrepancy in planted(firm, "INVOICE_NOT_IN_CRM"):
        assert discrepancy.engagement_key is not None
        own = sorted(by_engagement[discrepancy.engagement_key], key=lambda i: i.tran_date)
        latest = [i.key for i in own[-len(discrepancy.records) :]]
        assert latest == list(discrepancy.records)


def test_projects_without_billing_schedule_have_none(firm: Firm) -> None:
    scheduled = {s.engagement_key for s in firm.billing_schedules}
    missing = {d.engagement_key for d in planted(firm, "PROJECT_WITHOUT_BILLING_SCHEDULE")}
    in_erp = {e.key for e in firm.engagements if "netsuite" in e.present_in}
    assert missing and missing <= in_erp
    assert in_erp - scheduled == missing
    assert len(scheduled) == len(firm.billing_schedules)


def test_approved_time_unbilled_past_cutoff_is_exactly_the_planted(firm: Firm) -> None:
    cutoff = firm.as_of - timedelta(days=60)
    engagements = {e.key: e for e in firm.engagements}
    stale = {
        t.key
        for t in firm.time_entries
        if t.approved
        and t.billable
        and t.invoice is None
        and t.spent_date < cutoff
        and engagements[t.engagement_key].billing_model == "TIME_AND_MATERIALS"
    }
    assert stale == planted_records(firm, "APPROVED_TIME_UNBILLED_PAST_CUTOFF")
    invoiced_months: dict[str, list[str]] = defaultdict(list)
    for invoice in firm.invoices:
        invoiced_months[invoice.engagement_key].append(invoice.period_start.isoformat())
    entries = {t.key: t for t in firm.time_entries}
    for discrepancy in planted(firm, "APPROVED_TIME_UNBILLED_PAST_CUTOFF"):
        assert discrepancy.engagement_key is not None
        latest_stale = max(entries[key].spent_date for key in discrepancy.records)
        assert max(invoiced_months[discrepancy.engagement_key]) > latest_stale.isoformat()


def test_wrong_rate_card_version_entries_are_billed_at_the_other_version(firm: Firm) -> None:
    engagements = {e.key: e for e in firm.engagements}
    entries = {t.key: t for t in firm.time_entries}
    invoices = {i.key for i in firm.invoices}
    mismatched = {
        t.key
        for t in firm.time_entries
        if t.rate_card_version != engagements[t.engagement_key].rate_card_version
    }
    wrong = planted(firm, "WRONG_RATE_CARD_VERSION")
    assert mismatched == {r for d in wrong for r in d.records if r in entries}
    for discrepancy in wrong:
        *keys, invoice = discrepancy.records
        assert invoice in invoices
        assert {entries[key].invoice for key in keys} == {invoice}


def test_duplicate_erp_customers_twin_an_existing_customer(firm: Firm) -> None:
    customers = {c.key: c for c in firm.customers}
    twins = {c.key: c for c in firm.duplicate_customers}
    for discrepancy in planted(firm, "DUPLICATE_ERP_CUSTOMER"):
        original, twin = discrepancy.records
        assert original in customers and twin in twins and twin not in customers
        assert twins[twin].name.startswith(customers[original].name)
        assert twins[twin].legal_entity == customers[original].legal_entity
    assert len(planted(firm, "DUPLICATE_ERP_CUSTOMER")) == len(twins)


def test_won_opportunities_without_project_were_never_activated(firm: Firm) -> None:
    dormant = {e.key for e in firm.engagements if e.present_in == ("salesforce",)}
    planted_keys = {d.engagement_key for d in planted(firm, "WON_OPPORTUNITY_WITHOUT_PROJECT")}
    assert dormant and dormant == planted_keys
    touched: set[str] = set()
    for records in (
        firm.time_entries,
        firm.expenses,
        firm.invoices,
        firm.assignments,
        firm.milestones,
        firm.billing_schedules,
    ):
        touched.update(item.engagement_key for item in records)
    assert not dormant & touched
    won = {o.engagement_key for o in firm.opportunities if o.stage == "Closed Won"}
    assert dormant <= won


# --- manifest --------------------------------------------------------------------------------


def test_manifest_is_written_and_reads_back(firm: Firm, tmp_path: Path) -> None:
    path = tmp_path / "out" / "manifest.json"
    write_manifest(firm, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == manifest_dict(firm)
    assert data["seed"] == 42 and data["as_of"] == "2026-10-31"
    assert len(data["discrepancies"]) == len(firm.discrepancies)
    assert sum(data["counts"].values()) == len(firm.discrepancies)
    assert data["counts"]["WRONG_RATE_CARD_VERSION"] == 3
    first = data["discrepancies"][0]
    assert set(first) == {"kind", "systems", "engagement_key", "records", "description"}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_any_seed_gives_a_consistent_firm_with_every_planted_kind(seed: int) -> None:
    firm = generate_firm(seed)
    assert {d.kind for d in firm.discrepancies} == PLANTED_KINDS
    sources = [s for i in firm.invoices for line in i.lines for s in line.sources]
    assert len(sources) == len(set(sources))
    for invoice in firm.invoices:
        assert invoice.total == sum((line.amount for line in invoice.lines), Decimal(0))
