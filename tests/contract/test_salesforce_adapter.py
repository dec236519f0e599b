"""The Salesforce adapter against the Salesforce sandbox, over httpx.ASGITransport."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.jsonwire import encode
from adapters.resilience import ResiliencePolicy
from adapters.salesforce import OpportunityUpsert, SalesforceAdapter, mapping
from adapters.salesforce.errors import is_throttled, translate_error
from domain.commands import OpportunityUpdate
from domain.errors import (
    AuthFailed,
    CircuitOpen,
    MappingFailed,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from domain.health import BreakerState
from domain.ids import EngagementKey, RecordId
from domain.models import BillingModel
from domain.money import Money
from domain.ports import CRM
from sandboxes.firm import Firm
from sandboxes.salesforce import SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET, create_app
from sandboxes.salesforce.ids import to_18
from tests.support import (
    FakeClock,
    FakeWallClock,
    RecordedSleeps,
    SandboxControl,
    closing_factory,
    fast_policy,
)

BASE = "http://sf.test"
API = "/services/data/v60.0"
QUERY = f"GET {API}/query"
TOKEN = "POST /services/oauth2/token"
FAST = fast_policy(timeout_s=2.0)
MISSING_ID = RecordId(to_18("0065j00000ZZZZZ"))  # well-formed, never minted


@pytest.fixture
def wall() -> FakeWallClock:
    return FakeWallClock()


@pytest.fixture
def app(firm: Firm, wall: FakeWallClock) -> Starlette:
    return create_app(firm, clock=wall)


@pytest.fixture
async def control(app: Starlette) -> AsyncIterator[SandboxControl]:
    """The control plane; its `http` is also a vendor session for arranging data."""
    plane = SandboxControl(app, BASE)
    form = {
        "grant_type": "client_credentials",
        "client_id": SALESFORCE_CLIENT_ID,
        "client_secret": SALESFORCE_CLIENT_SECRET,
    }
    token = (await plane.http.post("/services/oauth2/token", data=form)).json()["access_token"]
    plane.http.headers["Authorization"] = f"Bearer {token}"
    await plane.reset_calls()
    yield plane
    await plane.aclose()


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
def monotonic() -> FakeClock:
    return FakeClock()


AdapterFactory = Callable[..., SalesforceAdapter]


@pytest.fixture
async def make(
    app: Starlette, sleeps: RecordedSleeps, monotonic: FakeClock
) -> AsyncIterator[AdapterFactory]:
    def build(**overrides: Any) -> SalesforceAdapter:
        options: dict[str, Any] = {
            "base_url": BASE,
            "client_id": SALESFORCE_CLIENT_ID,
            "client_secret": SALESFORCE_CLIENT_SECRET,
            "policy": FAST,
            "transport": httpx.ASGITransport(app=app),
            "sleep": sleeps,
            "rng": random.Random(7),
            "clock": monotonic,
            **overrides,
        }
        return SalesforceAdapter(**options)

    async with closing_factory(build) as factory:
        yield factory


@pytest.fixture
def crm(make: AdapterFactory) -> SalesforceAdapter:
    return make()


def breaker_state(crm: SalesforceAdapter) -> BreakerState:
    return crm.breaker_state  # read through a call, so mypy does not narrow it between reads


async def seeded_ids(control: SandboxControl) -> list[RecordId]:
    result = (
        await control.http.get(f"{API}/query", params={"q": "SELECT Id FROM Opportunity"})
    ).json()
    return [RecordId(r["Id"]) for r in result["records"]]


# -- the port ---------------------------------------------------------------------------------


def test_the_adapter_is_a_crm_port(crm: SalesforceAdapter) -> None:
    port: CRM = crm
    assert port.name == "salesforce"


async def test_health_probes_the_limits_endpoint(
    crm: SalesforceAdapter, control: SandboxControl
) -> None:
    health = await crm.health()
    assert (health.system, health.ok, health.breaker) == ("salesforce", True, BreakerState.CLOSED)
    assert await control.by_endpoint() == {TOKEN: 1, f"GET {API}/limits": 1}


# -- reads ------------------------------------------------------------------------------------


async def test_opportunities_map_to_the_canonical_model(crm: SalesforceAdapter, firm: Firm) -> None:
    keys = [EngagementKey(o.engagement_key) for o in firm.opportunities[:40]]
    customers = {c.key: c for c in firm.customers}
    found = await crm.get_opportunities_by_engagement(keys)
    assert [o.engagement_key for o in found] == keys
    for canonical, source in zip(found, firm.opportunities[:40], strict=True):
        assert canonical.name == source.name
        assert canonical.stage == source.stage
        assert canonical.is_won is (source.stage == "Closed Won")
        assert canonical.is_closed is source.stage.startswith("Closed")
        assert canonical.amount == Money.of(source.amount, source.currency)
        assert canonical.invoiced_amount == Money.of(source.invoiced_amount, source.currency)
        assert canonical.close_date == source.close_date
        assert canonical.probability == source.probability
        assert canonical.billing_model == BillingModel(source.billing_model)
        assert (canonical.service_line, canonical.legal_entity) == (
            source.service_line,
            source.legal_entity,
        )
        assert canonical.rate_card_version == source.rate_card_version
        assert canonical.owner == source.owner
        assert canonical.customer_key == source.customer  # via Account.Customer_Key__c
        assert canonical.account_name == customers[source.customer].name
        assert canonical.modified_at is not None and canonical.modified_at.tzinfo is not None


async def test_list_follows_next_records_url_across_pages(
    make: AdapterFactory, control: SandboxControl, firm: Firm
) -> None:
    crm = make(batch_size=200)
    everything = await crm.list_opportunities()
    assert len(everything) == len(firm.opportunities) > 200
    assert len({o.id for o in everything}) == len(everything)
    counted = await control.by_endpoint()
    pages = {k: v for k, v in counted.items() if k.startswith(f"GET {API}/query/")}
    assert counted[QUERY] == 1 and sum(pages.values()) == 1


async def test_list_filters_by_stage(crm: SalesforceAdapter, firm: Firm) -> None:
    won = await crm.list_opportunities(stage="Closed Won")
    assert len(won) == sum(o.stage == "Closed Won" for o in firm.opportunities)
    assert all(o.is_won for o in won)


async def test_soql_literals_are_escaped(crm: SalesforceAdapter, firm: Firm) -> None:
    assert await crm.list_opportunities(stage="Closed Won' OR StageName != '") == []
    key = EngagementKey(firm.opportunities[0].engagement_key)
    found = await crm.get_opportunities_by_engagement([key, EngagementKey("x'y\\z")])
    assert [o.engagement_key for o in found] == [key]


async def test_get_many_keeps_request_order_and_skips_missing_or_malformed(
    crm: SalesforceAdapter, control: SandboxControl
) -> None:
    a, b = (await seeded_ids(control))[:2]
    found = await crm.get_opportunities([b, MISSING_ID, RecordId("not-an-id"), a, RecordId(a[:15])])
    assert [o.id for o in found] == [b, a]


async def test_get_many_of_500_ids_is_three_queries(
    make: AdapterFactory, control: SandboxControl
) -> None:
    extra = [
        {"attributes": {"type": "Opportunity"}, "Name": f"Bulk {n}", "StageName": "Prospecting",
         "CloseDate": "2026-12-31"}
        for n in range(250)
    ]  # fmt: skip
    for start in (0, 200):
        created = await control.http.post(
            f"{API}/composite/sobjects", json={"records": extra[start : start + 200]}
        )
        assert all(r["success"] for r in created.json())
    ids = await seeded_ids(control)
    assert len(ids) == 500
    await control.reset_calls()
    crm = make()
    found = await crm.get_opportunities(ids)
    assert {o.id for o in found} == set(ids)
    assert await control.by_endpoint() == {TOKEN: 1, QUERY: 3}


async def test_get_accounts(crm: SalesforceAdapter, firm: Firm) -> None:
    opp = (
        await crm.get_opportunities_by_engagement(
            [EngagementKey(firm.opportunities[0].engagement_key)]
        )
    )[0]
    assert opp.account_id is not None
    [account] = await crm.get_accounts([opp.account_id, MISSING_ID])
    customer = next(c for c in firm.customers if c.key == firm.opportunities[0].customer)
    assert (account.id, account.name, account.customer_key) == (
        opp.account_id,
        customer.name,
        customer.key,
    )
    assert (account.industry, account.currency) == (customer.industry, customer.currency)


async def test_single_read_of_an_unknown_id_is_not_found(crm: SalesforceAdapter) -> None:
    with pytest.raises(NotFound) as caught:
        await crm.get_opportunity(MISSING_ID)
    assert caught.value.system == "salesforce"


async def test_batch_reads_of_nothing_make_no_calls(
    crm: SalesforceAdapter, control: SandboxControl
) -> None:
    assert await crm.get_opportunities([]) == []
    assert await crm.get_accounts([RecordId("garbage")]) == []
    assert await crm.get_opportunities_by_engagement([]) == []
    assert await control.by_endpoint() == {}


# -- writes -----------------------------------------------------------------------------------


async def test_update_patches_then_reads_back_with_a_later_modstamp(
    crm: SalesforceAdapter, control: SandboxControl, firm: Firm, wall: FakeWallClock
) -> None:
    source = next(o for o in firm.opportunities if o.stage == "Negotiation/Review")
    [before] = await crm.get_opportunities_by_engagement([EngagementKey(source.engagement_key)])
    wall.now += timedelta(seconds=3)
    after = await crm.update_opportunity(
        before.id, OpportunityUpdate(stage="Closed Won", invoiced_amount=Decimal("1000.10"))
    )
    assert (after.stage, after.is_won, after.is_closed) == ("Closed Won", True, True)
    assert after.invoiced_amount == Money.of("1000.10", source.currency)
    assert after.amount == before.amount
    assert before.modified_at is not None and after.modified_at is not None
    assert after.modified_at > before.modified_at
    assert (await control.by_endpoint())[f"PATCH {API}/sobjects/Opportunity/{before.id}"] == 1


async def test_update_of_an_unknown_record_is_not_found_with_the_vendor_words(
    crm: SalesforceAdapter,
) -> None:
    with pytest.raises(NotFound) as caught:
        await crm.update_opportunity(MISSING_ID, OpportunityUpdate(stage="Closed Won"))
    error = caught.value
    assert (error.system, error.status, error.vendor_code) == ("salesforce", 404, "NOT_FOUND")
    assert error.vendor_message == "The requested resource does not exist"


async def test_vendor_refusal_is_upstream_rejected_and_not_retried(
    crm: SalesforceAdapter, control: SandboxControl
) -> None:
    opp_id = (await seeded_ids(control))[0]
    with pytest.raises(UpstreamRejected) as caught:
        await crm.update_opportunity(opp_id, OpportunityUpdate(stage="Won-ish"))
    error = caught.value
    assert not isinstance(error, NotFound)
    assert (error.status, error.vendor_code) == (400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    assert error.vendor_message == "Stage: bad value for restricted picklist field: Won-ish"
    assert (await control.by_endpoint())[f"PATCH {API}/sobjects/Opportunity/{opp_id}"] == 1


async def test_upsert_creates_once_and_a_replay_creates_nothing(
    crm: SalesforceAdapter, control: SandboxControl
) -> None:
    key = EngagementKey("ENG-2026-88888")
    fields = OpportunityUpsert(
        name="Replayed deal",
        stage="Qualification",
        close_date=date(2026, 12, 15),
        amount=Decimal("50000.25"),
        currency="EUR",
        billing_model=BillingModel.FIXED_FEE,
    )
    first = await crm.upsert_opportunity_by_engagement(key, fields)
    again = await crm.upsert_opportunity_by_engagement(key, fields)
    assert again.id == first.id
    assert first.amount == Money.of("50000.25", "EUR")
    assert first.billing_model is BillingModel.FIXED_FEE
    assert len(await crm.get_opportunities_by_engagement([key])) == 1
    count = await control.http.get(
        f"{API}/query",
        params={"q": f"SELECT COUNT() FROM Opportunity WHERE Engagement_Key__c = '{key}'"},
    )
    assert count.json()["totalSize"] == 1


async def test_upsert_is_retried_after_a_server_error_without_duplicates(
    crm: SalesforceAdapter, control: SandboxControl, sleeps: RecordedSleeps
) -> None:
    await crm.health()  # session first, so only the upsert meets the fault
    await control.faults(error_rate=1)

    async def clear() -> None:
        await control.faults(error_rate=0)

    sleeps.hook = clear
    key = EngagementKey("ENG-2026-88889")
    created = await crm.upsert_opportunity_by_engagement(
        key, OpportunityUpsert(name="Retried", stage="Prospecting", close_date=date(2027, 1, 1))
    )
    assert created.engagement_key == key
    upserts = f"PATCH {API}/sobjects/Opportunity/Engagement_Key__c/{key}"
    assert (await control.by_endpoint())[upserts] == 2
    assert len(await crm.get_opportunities_by_engagement([key])) == 1


# -- auth -------------------------------------------------------------------------------------


async def test_wrong_client_secret_is_auth_failed(
    make: AdapterFactory, control: SandboxControl
) -> None:
    crm = make(client_secret="wrong")
    with pytest.raises(AuthFailed) as caught:
        await crm.list_opportunities()
    error = caught.value
    assert (error.system, error.status, error.vendor_code) == ("salesforce", 400, "invalid_client")
    assert error.vendor_message == "invalid client credentials"
    assert crm.breaker_state is BreakerState.CLOSED
    assert await control.by_endpoint() == {TOKEN: 1}


async def test_an_expired_session_is_renewed_once(
    crm: SalesforceAdapter, control: SandboxControl, wall: FakeWallClock, firm: Firm
) -> None:
    await crm.health()
    wall.now += timedelta(hours=2, seconds=1)
    assert len(await crm.list_opportunities(stage="Closed Won")) > 0
    counted = await control.by_endpoint()
    assert counted[TOKEN] == 2
    assert counted[QUERY] == 2  # the refused call and its replay with the new token


# -- throttling, server errors, breaker -------------------------------------------------------


async def test_throttle_is_retried_with_backoff_then_surfaced(
    crm: SalesforceAdapter, control: SandboxControl, sleeps: RecordedSleeps
) -> None:
    await crm.health()
    await control.faults(rate_limit_rate=1)
    with pytest.raises(UpstreamUnavailable) as caught:
        await crm.list_opportunities()
    error = caught.value
    assert (error.status, error.vendor_code) == (403, "REQUEST_LIMIT_EXCEEDED")
    assert error.vendor_message == "TotalRequests Limit exceeded."
    assert (await control.by_endpoint())[QUERY] == FAST.max_attempts
    # Salesforce sends no Retry-After: the waits are the policy's jittered backoff.
    rng = random.Random(7)
    assert sleeps.delays == [FAST.backoff(n, rng) for n in range(1, FAST.max_attempts)]


async def test_exhausted_daily_allocation_surfaces_as_unavailable(
    firm: Firm, make: AdapterFactory
) -> None:
    limited = create_app(firm, daily_limit=1)
    crm = make(transport=httpx.ASGITransport(app=limited))
    assert (await crm.health()).ok
    with pytest.raises(UpstreamUnavailable) as caught:
        await crm.list_opportunities()
    assert caught.value.vendor_code == "REQUEST_LIMIT_EXCEEDED"


async def test_server_errors_are_retried_then_surfaced(
    crm: SalesforceAdapter, control: SandboxControl, sleeps: RecordedSleeps
) -> None:
    await crm.health()
    await control.faults(error_rate=1)
    with pytest.raises(UpstreamUnavailable) as caught:
        await crm.get_opportunities([MISSING_ID])
    assert caught.value.vendor_code in {"SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"}
    assert caught.value.status in {500, 503}
    assert (await control.by_endpoint())[QUERY] == FAST.max_attempts
    assert len(sleeps.delays) == FAST.max_attempts - 1


async def test_a_read_succeeds_after_one_server_error(
    crm: SalesforceAdapter, control: SandboxControl, sleeps: RecordedSleeps, firm: Firm
) -> None:
    await crm.health()
    await control.faults(error_rate=1)

    async def clear() -> None:
        await control.faults(error_rate=0)

    sleeps.hook = clear
    assert len(await crm.list_opportunities()) == len(firm.opportunities)
    assert (await control.by_endpoint())[QUERY] == 2
    assert len(sleeps.delays) == 1


async def test_the_login_post_is_not_retried(
    crm: SalesforceAdapter, control: SandboxControl, sleeps: RecordedSleeps
) -> None:
    await control.faults(error_rate=1)
    with pytest.raises(UpstreamUnavailable):
        await crm.list_opportunities()
    assert await control.by_endpoint() == {TOKEN: 1}
    assert sleeps.delays == []


async def test_breaker_opens_after_failures_and_half_opens_after_the_timeout(
    make: AdapterFactory, control: SandboxControl, monotonic: FakeClock
) -> None:
    policy = ResiliencePolicy(
        max_attempts=1, backoff_base_s=0.001, breaker_failure_threshold=2,
        breaker_reset_timeout_s=10.0,
    )  # fmt: skip
    crm = make(policy=policy)
    await crm.health()
    await control.faults(error_rate=1)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await crm.list_opportunities()
    assert crm.breaker_state is BreakerState.OPEN
    before = await control.by_endpoint()
    with pytest.raises(CircuitOpen):
        await crm.list_opportunities()
    health = await crm.health()
    assert (health.ok, health.breaker) == (False, BreakerState.OPEN)
    assert await control.by_endpoint() == before  # nothing reached the sandbox
    await control.faults(error_rate=0)
    monotonic.now += 10.0
    assert breaker_state(crm) is BreakerState.HALF_OPEN
    assert len(await crm.list_opportunities(stage="Closed Lost")) > 0
    assert breaker_state(crm) is BreakerState.CLOSED


# -- error translation ------------------------------------------------------------------------


async def test_only_the_limit_403_is_retryable(control: SandboxControl) -> None:
    user = (
        await control.http.get(f"{API}/query", params={"q": "SELECT Id FROM User LIMIT 1"})
    ).json()["records"][0]["Id"]
    refused = await control.http.patch(f"{API}/sobjects/User/{user}", json={"FirstName": "Eve"})
    await control.faults(rate_limit_rate=1)
    throttled = await control.http.get(f"{API}/limits")
    assert refused.status_code == throttled.status_code == 403
    assert not is_throttled(refused)
    assert is_throttled(throttled)
    error = translate_error(refused)
    assert isinstance(error, UpstreamRejected)
    assert (error.vendor_code, error.vendor_message) == (
        "INSUFFICIENT_ACCESS",
        "insufficient access rights on object id",
    )


def test_unmappable_records_raise_mapping_failed() -> None:
    with pytest.raises(MappingFailed) as caught:
        mapping.opportunity_from({"Id": MISSING_ID, "StageName": "x"}, default_currency="USD")
    assert caught.value.system == "salesforce"
    with pytest.raises(MappingFailed):
        mapping.account_from({"Id": MISSING_ID, "Name": "x", "SystemModstamp": "yesterday"})


def test_write_bodies_carry_exact_decimal_numbers() -> None:
    body = encode(
        mapping.update_body(OpportunityUpdate(amount=Decimal("130000.10"), stage="Closed Won"))
    )
    assert body == b'{"StageName":"Closed Won","Amount":130000.10}'
    assert json.loads(body, parse_float=Decimal)["Amount"] == Decimal("130000.10")
