"""A deal set to Closed Won in Salesforce itself runs closeWin's checks and activation, once."""

from __future__ import annotations

from decimal import Decimal

from domain.governance import Role
from domain.operations import OperationStatus
from sandboxes.firm import Firm
from tests.contract.test_win_and_activation import CLOSE, _first
from tests.governance_support import (
    as_role,
    mutate,
    store,
    wait_for_operation,
)
from tests.graph_support import GraphClient
from tests.inbound_support import (  # noqa: F401 - the fixtures client, embedded
    Vendors,
    assert_schema_valid,
    client_fixture,
    embedded_fixture,
    events,
    inbound,
)
from workflows.inbound_win import SYNC_WIN

STATUS = "query($k: String!) { engagement(key: $k) { status } }"


async def _sync_wins(client: GraphClient) -> list[str]:
    """Ids of the governed wins the inbound sync ran."""
    journal = store(client)
    keys = [key async for key in journal._redis.scan_iter(match=f"{journal.keys.op(SYNC_WIN)}:*")]
    return sorted(key.removeprefix(journal.keys.op("")) for key in keys)


async def test_a_deal_closed_won_in_salesforce_runs_the_checks_and_is_activated(
    client: GraphClient,
) -> None:
    assert (await inbound(client).poll_once("salesforce")).published == 0  # the past: history
    crm_id, key = await _first(client, ready=True)
    await Vendors(client).edit_opportunity(crm_id, StageName="Closed Won")
    assert (await inbound(client).poll_once("salesforce")).published == 1
    activation = await wait_for_operation(client, f"activation:{key}")
    assert activation.status is OperationStatus.SUCCEEDED, activation
    [won] = await events(client, "opportunity.won")
    assert (won.subject, won.actor) == (key, "sync:salesforce")
    assert len(await events(client, "project.activated")) == 1
    [operation_id] = await _sync_wins(client)
    operation = await store(client).get_operation(operation_id)
    assert operation is not None and operation.status is OperationStatus.SUCCEEDED
    assert [c["passed"] for c in (operation.result or {})["checks"]] == [True] * 7
    assert (await inbound(client).poll_once("salesforce")).published == 0
    assert await _sync_wins(client) == [operation_id]
    assert len(await events(client, "opportunity.won")) == 1
    status = await client.data(STATUS, {"k": key})
    assert status["engagement"]["status"] == "ACTIVE"
    await assert_schema_valid(client)


async def test_a_failing_deal_closed_won_in_salesforce_is_rejected_with_its_exceptions(
    embedded: GraphClient,
) -> None:
    await inbound(embedded).poll_once("salesforce")
    crm_id, key = await _first(embedded, ready=False)
    await Vendors(embedded).edit_opportunity(crm_id, StageName="Closed Won")
    assert (await inbound(embedded).poll_once("salesforce")).published == 1
    [rejected] = await events(embedded, "opportunity.rejected")
    assert (rejected.subject, rejected.actor) == (key, "sync:salesforce")
    raised = await events(embedded, "exception.raised")
    exceptions = await store(embedded).business_exceptions()
    failed = rejected.data()["failed_checks"]
    assert len(raised) == len(exceptions) == len(failed) >= 1
    assert {e.code for e in exceptions} == set(failed)
    assert all(e.engagement_key == key for e in exceptions)
    assert await events(embedded, "opportunity.won") == []
    assert (await inbound(embedded).poll_once("salesforce")).published == 0  # same version
    assert len(await events(embedded, "opportunity.rejected")) == 1
    await assert_schema_valid(embedded)


async def test_a_deal_won_through_the_gateway_is_not_run_again_by_the_poll(
    embedded: GraphClient,
) -> None:
    await inbound(embedded).poll_once("salesforce")
    crm_id, key = await _first(embedded, ready=True)
    body = await mutate(embedded, CLOSE, {"id": crm_id}, headers=as_role(embedded, Role.SALES))
    assert body["data"]["closeWinOpportunity"]["__typename"] == "OpportunityWon", body
    await wait_for_operation(embedded, f"activation:{key}")
    outcome = await inbound(embedded).poll_once("salesforce")
    assert outcome.records >= 1 and outcome.published == 0
    assert await _sync_wins(embedded) == []
    [won] = await events(embedded, "opportunity.won")
    assert won.actor == "tester"


async def test_a_deal_won_before_the_first_start_and_edited_since_is_no_news(
    embedded: GraphClient, firm: Firm
) -> None:
    await inbound(embedded).poll_once("salesforce")
    crm = embedded.app.state.systems.crm
    won = next(o for o in await crm.list_opportunities() if o.is_won)
    await Vendors(embedded).edit_opportunity(won.id, Amount=Decimal("123456.00"))
    outcome = await inbound(embedded).poll_once("salesforce")
    assert outcome.records >= 1 and outcome.published == 0
    assert await _sync_wins(embedded) == [] and await events(embedded) == []
