"""Deal terms through the Salesforce adapter: the delivery window, line items, winning a deal.

Against the Salesforce sandbox over httpx.ASGITransport, as the other adapter tests.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette

from adapters.salesforce import SalesforceAdapter
from domain.commands import OpportunityUpdate
from domain.errors import UpstreamUnavailable
from domain.ids import EngagementKey, RecordId
from domain.money import Money
from sandboxes.firm import Firm, Opportunity
from sandboxes.salesforce import SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET, create_app
from sandboxes.salesforce.deal_terms import add_months
from tests.support import FakeClock, FakeWallClock, RecordedSleeps, SandboxControl, fast_policy

BASE = "http://sf.test"
API = "/services/data/v60.0"
QUERY = f"GET {API}/query"
TOKEN = "POST /services/oauth2/token"
MONTHS = {"TIME_AND_MATERIALS": 6, "FIXED_FEE": 4, "MILESTONE": 6, "RETAINER": 12,
          "SUBSCRIPTION": 12}  # fmt: skip


@pytest.fixture
def wall() -> FakeWallClock:
    return FakeWallClock()


@pytest.fixture
def app(firm: Firm, wall: FakeWallClock) -> Starlette:
    return create_app(firm, clock=wall)


@pytest.fixture
async def control(app: Starlette) -> AsyncIterator[SandboxControl]:
    plane = SandboxControl(app, BASE)
    yield plane
    await plane.aclose()


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
async def crm(app: Starlette, sleeps: RecordedSleeps) -> AsyncIterator[SalesforceAdapter]:
    adapter = SalesforceAdapter(
        base_url=BASE,
        client_id=SALESFORCE_CLIENT_ID,
        client_secret=SALESFORCE_CLIENT_SECRET,
        policy=fast_policy(timeout_s=2.0),
        transport=httpx.ASGITransport(app=app),
        sleep=sleeps,
        rng=random.Random(7),
        clock=FakeClock(),
    )
    yield adapter
    await adapter.aclose()


def _open_milestone_deals(firm: Firm) -> list[Opportunity]:
    return [
        o
        for o in firm.opportunities
        if o.billing_model == "MILESTONE" and not o.stage.startswith("Closed")
    ]


async def test_won_deals_carry_their_engagement_window_and_open_deals_a_derived_one(
    crm: SalesforceAdapter, firm: Firm
) -> None:
    engaged = {e.opportunity: e for e in firm.engagements}
    found = {
        o.engagement_key: o
        for o in await crm.get_opportunities_by_engagement(
            [EngagementKey(o.engagement_key) for o in firm.opportunities]
        )
    }
    assert len(found) == len(firm.opportunities)
    checked_open = 0
    for source in firm.opportunities:
        canonical = found[EngagementKey(source.engagement_key)]
        engagement = engaged.get(source.key)
        if engagement is not None:
            assert (canonical.start_date, canonical.end_date) == (
                engagement.start_date,
                engagement.end_date,
            )
            continue
        start = source.close_date + timedelta(days=14)
        end = add_months(start, MONTHS[source.billing_model]) - timedelta(days=1)
        assert (canonical.start_date, canonical.end_date) == (start, end)
        checked_open += not source.stage.startswith("Closed")
    assert checked_open > 0


def test_months_are_added_calendar_wise_and_clamped() -> None:
    from datetime import date

    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 4) == date(2027, 3, 15)


async def test_open_milestone_deals_have_three_lines_splitting_the_amount_in_one_query(
    crm: SalesforceAdapter, control: SandboxControl, firm: Firm
) -> None:
    deals = _open_milestone_deals(firm)
    assert deals
    opportunities = await crm.get_opportunities_by_engagement(
        [EngagementKey(d.engagement_key) for d in deals]
    )
    ids = [o.id for o in opportunities]
    await control.reset_calls()
    lines = await crm.get_opportunity_lines(list(reversed(ids)))
    assert await control.by_endpoint() == {QUERY: 1}
    assert len(lines) == 3 * len(ids)
    assert list(dict.fromkeys(line.opportunity_id for line in lines)) == list(reversed(ids))
    for opportunity in opportunities:
        own = [line for line in lines if line.opportunity_id == opportunity.id]
        assert [line.description for line in own] == [
            "Discovery sign-off",
            "Build complete",
            "Go-live",
        ]
        assert opportunity.amount is not None
        total = sum((line.amount.amount for line in own), Decimal(0))
        assert total == opportunity.amount.amount
        assert all(line.amount.currency == opportunity.amount.currency for line in own)
        assert own[0].amount == own[1].amount  # the last line takes the remainder
        dates = [line.service_date for line in own]
        assert all(d is not None for d in dates) and dates == sorted(dates)  # type: ignore[type-var]
        assert opportunity.start_date is not None and opportunity.end_date is not None
        assert opportunity.start_date < dates[0]  # type: ignore[operator]
        assert dates[-1] == opportunity.end_date


async def test_deals_without_lines_and_malformed_ids_give_nothing(
    crm: SalesforceAdapter, control: SandboxControl, firm: Firm
) -> None:
    won = next(o for o in firm.opportunities if o.stage == "Closed Won")
    (opportunity,) = await crm.get_opportunities_by_engagement([EngagementKey(won.engagement_key)])
    assert await crm.get_opportunity_lines([opportunity.id, RecordId("nope")]) == []
    await control.reset_calls()
    assert await crm.get_opportunity_lines([RecordId("nope")]) == []
    assert await control.calls() == 0


async def test_closing_a_deal_won_derives_is_won_and_advances_the_modstamp(
    crm: SalesforceAdapter, wall: FakeWallClock, firm: Firm
) -> None:
    deal = next(o for o in firm.opportunities if o.stage == "Negotiation/Review")
    (before,) = await crm.get_opportunities_by_engagement([EngagementKey(deal.engagement_key)])
    assert (before.is_won, before.is_closed) == (False, False)
    wall.advance(minutes=5)
    after = await crm.update_opportunity(before.id, OpportunityUpdate(stage="Closed Won"))
    assert (after.stage, after.is_won, after.is_closed, after.probability) == (
        "Closed Won",
        True,
        True,
        100,
    )
    assert before.modified_at is not None and after.modified_at is not None
    assert after.modified_at > before.modified_at
    assert (after.start_date, after.end_date) == (before.start_date, before.end_date)


async def test_an_update_whose_answer_is_lost_is_replayed_to_one_consistent_record(
    crm: SalesforceAdapter, control: SandboxControl, sleeps: RecordedSleeps, firm: Firm
) -> None:
    deal = next(o for o in firm.opportunities if o.stage == "Proposal/Price Quote")
    (before,) = await crm.get_opportunities_by_engagement([EngagementKey(deal.engagement_key)])
    await control.faults(error_after_rate=1)
    sleeps.hook = lambda: control.faults(error_after_rate=0)
    await control.reset_calls()
    update = OpportunityUpdate(stage="Closed Won", amount=Decimal("123456.78"))
    after = await crm.update_opportunity(before.id, update)
    assert (await control.by_endpoint())[f"PATCH {API}/sobjects/Opportunity/{before.id}"] == 2
    assert after.is_won and after.amount == Money.of("123456.78", deal.currency)
    again = await crm.get_opportunities_by_engagement([EngagementKey(deal.engagement_key)])
    assert [o.id for o in again] == [before.id]


async def test_a_lost_answer_to_every_attempt_surfaces_as_unavailable_yet_was_applied(
    crm: SalesforceAdapter, control: SandboxControl, firm: Firm
) -> None:
    deal = next(o for o in firm.opportunities if o.stage == "Qualification")
    (before,) = await crm.get_opportunities_by_engagement([EngagementKey(deal.engagement_key)])
    await control.faults(error_after_rate=1)
    with pytest.raises(UpstreamUnavailable):
        await crm.update_opportunity(before.id, OpportunityUpdate(stage="Closed Lost"))
    await control.faults(error_after_rate=0)
    (after,) = await crm.get_opportunities([before.id])
    assert (after.stage, after.is_closed, after.is_won) == ("Closed Lost", True, False)
