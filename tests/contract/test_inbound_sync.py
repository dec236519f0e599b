"""Changes made directly in Harvest, Kantata and NetSuite become canonical events once.

Each test drives `InboundSync.poll_once` (or `sync_records`, as a webhook would)
against the in-process sandboxes, after a change made through the vendor's own
API; the gateway's polling loops are off (as in every test gateway), except in the
test of the loop.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.errors import AdapterError, InvalidInput
from domain.events import MilestoneAccepted, MilestoneCompleted, PaymentReceived, TimeApproved
from domain.governance import Role
from domain.ids import EngagementKey
from domain.models import MilestoneState
from domain.operations import Commit, Operation, OperationStatus
from gateway.inbound_wiring import build_inbound
from sandboxes.firm import Firm
from tests.contract.test_billing_transitions import PAY
from tests.governance_support import as_role, governed, governed_client, mutate, store
from tests.graph_support import GraphClient
from tests.inbound_support import (  # noqa: F401 - the fixtures client, embedded
    Vendors,
    client_fixture,
    embedded_fixture,
    events,
    inbound,
    open_invoice,
    submitted_entry,
    wait_for_event,
)
from tests.serving import wait_until

APPROVE = """mutation($ids: [ID!]!, $key: String) {
  approveTimeEntries(ids: $ids, idempotencyKey: $key) { __typename } }"""
SUCCEEDED = OperationStatus.SUCCEEDED
ACCEPT = """mutation($id: ID!, $key: String) {
  acceptMilestone(milestoneId: $id, idempotencyKey: $key) { __typename } }"""


async def _started(client: GraphClient, *systems: str) -> None:
    """First polls: each feed's watermark starts now (nothing of the past is announced)."""
    for system in systems:
        outcome = await inbound(client).poll_once(system)
        assert outcome.published == 0


async def test_time_approved_in_harvest_is_one_event_and_polling_again_gives_none(
    client: GraphClient, firm: Firm
) -> None:
    await _started(client, "harvest")
    entry_id, key = await submitted_entry(client, firm)
    await Vendors(client).approve_in_harvest(entry_id)
    first = await inbound(client).poll_once("harvest")
    assert first.published == 1
    [event] = await events(client)
    assert isinstance(event, TimeApproved)
    assert (event.time_entry_ids, event.subject, event.actor) == ([entry_id], key, "sync:harvest")
    again = await inbound(client).poll_once("harvest")
    assert again.records >= 1 and again.published == 0  # the overlap read it again: skipped
    assert await events(client) == [event]


async def test_time_approved_through_the_gateway_keeps_only_the_mutations_event(
    embedded: GraphClient, firm: Firm
) -> None:
    await _started(embedded, "harvest")
    entry_id, _ = await submitted_entry(embedded, firm)
    body = await mutate(embedded, APPROVE, {"ids": [entry_id]}, headers=as_role(embedded, Role.PMO))
    assert body["data"]["approveTimeEntries"]["__typename"] == "TimeEntriesApproved"
    outcome = await inbound(embedded).poll_once("harvest")
    assert outcome.records >= 1 and outcome.published == 0
    [event] = await events(embedded)
    assert event.type == "time.approved" and event.actor == "tester"


async def test_a_milestone_completed_in_kantata_then_accepted_through_the_gateway(
    client: GraphClient, firm: Firm
) -> None:
    await _started(client, "kantata")
    planned = next(m for m in firm.milestones if m.state in ("not started", "started"))
    psa = client.app.state.systems.psa
    [milestone] = [
        m
        for m in await psa.get_milestones([EngagementKey(planned.engagement_key)])
        if m.external_ref == planned.key
    ]
    await Vendors(client).set_story_state(milestone.id, "completed")
    assert (await inbound(client).poll_once("kantata")).published == 1
    [completed] = await events(client)
    assert isinstance(completed, MilestoneCompleted)
    assert (completed.milestone_id, completed.subject) == (milestone.id, planned.engagement_key)
    accepted = await mutate(client, ACCEPT, {"id": milestone.id}, headers=as_role(client, Role.PMO))
    assert accepted["data"]["acceptMilestone"]["__typename"] == "MilestoneAccepted"
    assert (await inbound(client).poll_once("kantata")).published == 0  # ours announced it
    kinds = [(type(e), e.actor) for e in await events(client)]
    assert kinds == [(MilestoneCompleted, "sync:kantata"), (MilestoneAccepted, "tester")]


async def test_a_payment_applied_in_netsuite_is_received_once_by_poll_and_webhook(
    client: GraphClient,
) -> None:
    await _started(client, "netsuite")
    invoice = await open_invoice(client)
    payment_id = await Vendors(client).pay_in_netsuite(
        invoice.customer_id, invoice.id, Decimal("10.00")
    )
    assert (await inbound(client).poll_once("netsuite")).published == 1
    [event] = await events(client)
    assert isinstance(event, PaymentReceived)
    assert (event.payment_id, event.invoice_id, event.subject) == (
        payment_id,
        invoice.id,
        invoice.engagement_key,
    )
    assert (Decimal(event.amount), event.currency) == (Decimal(10), invoice.total.currency)
    sync = inbound(client)
    assert await sync.sync_records("netsuite", "customerPayment", [payment_id]) == 1
    assert await sync.sync_records("netsuite", "invoice", [invoice.id]) >= 1
    assert await events(client) == [event]


async def test_a_change_seen_by_a_webhook_first_is_not_announced_again_by_the_poll(
    embedded: GraphClient, firm: Firm
) -> None:
    await _started(embedded, "kantata")
    planned = next(m for m in firm.milestones if m.state in ("not started", "started"))
    psa = embedded.app.state.systems.psa
    found = await psa.get_milestones([EngagementKey(planned.engagement_key)])
    [milestone] = [m for m in found if m.external_ref == planned.key]
    await Vendors(embedded).set_story_state(milestone.id, "accepted")
    assert await inbound(embedded).sync_records("kantata", "stories", [milestone.id]) == 1
    assert (await inbound(embedded).poll_once("kantata")).published == 0
    [event] = await events(embedded)
    assert isinstance(event, MilestoneAccepted) and event.actor == "sync:kantata"
    with pytest.raises(InvalidInput, match="not synced"):
        await inbound(embedded).sync_records("kantata", "workspaces", ["1"])


async def test_two_replicas_polling_the_same_change_publish_one_event(
    client: GraphClient, firm: Firm
) -> None:
    await _started(client, "harvest")
    other = build_inbound(
        client.app.state.settings,
        client.app.state.systems,
        client.app.state.redis,
        governed(client),
    )
    entry_id, _ = await submitted_entry(client, firm)
    await Vendors(client).approve_in_harvest(entry_id)
    outcomes = await asyncio.gather(
        inbound(client).poll_once("harvest"), other.poll_once("harvest")
    )
    assert sum(o.published for o in outcomes) == 1
    assert len(await events(client, "time.approved")) == 1


async def test_an_outage_mid_poll_loses_nothing_and_the_watermark_survives_a_restart(
    client: GraphClient, firm: Firm
) -> None:
    await _started(client, "harvest")
    sync = inbound(client)
    watermark = await sync.store.watermark("harvest/time_entry")
    assert watermark is not None
    entry_id, _ = await submitted_entry(client, firm)
    await Vendors(client).approve_in_harvest(entry_id)
    await client.sandboxes.set_faults("harvest", error_rate=1)
    with pytest.raises(AdapterError):
        await sync.poll_once("harvest")
    assert await sync.store.watermark("harvest/time_entry") == watermark
    await client.sandboxes.set_faults("harvest", error_rate=0)
    restarted = build_inbound(
        client.app.state.settings,
        client.app.state.systems,
        client.app.state.redis,
        governed(client),
    )
    assert await restarted.store.watermark("harvest/time_entry") == watermark
    assert (await restarted.poll_once("harvest")).published == 1
    [event] = await events(client)
    assert isinstance(event, TimeApproved) and event.time_entry_ids == [entry_id]
    assert (await sync.poll_once("harvest")).published == 0


async def test_the_poll_loop_announces_a_change_while_the_gateway_runs(firm: Firm) -> None:
    async with governed_client(firm, "embedded", sync_poll_interval_s=0.02) as client:
        sync = inbound(client)

        async def started() -> bool:
            return await sync.store.watermark("kantata/milestone") is not None

        await wait_until(started, timeout_s=10, what="the poll loop's first start")
        planned = next(m for m in firm.milestones if m.state in ("not started", "started"))
        psa = client.app.state.systems.psa
        found = await psa.get_milestones([EngagementKey(planned.engagement_key)])
        [milestone] = [m for m in found if m.external_ref == planned.key]
        await Vendors(client).set_story_state(milestone.id, "completed")
        [event] = await wait_for_event(client, "milestone.completed")
        assert isinstance(event, MilestoneCompleted) and event.milestone_id == milestone.id
        assert (await psa.get_milestones_by_id([milestone.id]))[0].state is (
            MilestoneState.COMPLETED
        )
    assert sync.stopping.is_set()


async def test_an_approval_our_transition_is_making_is_left_to_it_and_not_lost(
    embedded: GraphClient, firm: Firm
) -> None:
    """The approval is in Harvest before the transition commits its event: the poll sees
    it, leaves it to the transition (RUNNING in the journal), and the watermark waits."""
    await _started(embedded, "harvest")
    entry_id, key = await submitted_entry(embedded, firm)
    journal = store(embedded)
    now = datetime.now(UTC)
    running = Operation(
        id="approveTimeEntries:in-flight",
        kind="approveTimeEntries",
        engagement_key=None,
        input={"ids": [entry_id]},
        fingerprint="f",
        actor="pmo-user",
        role="PMO",
        correlation_id=None,
        created_at=now,
    )
    await journal.open_operation(running)
    await Vendors(embedded).approve_in_harvest(entry_id)
    sync = inbound(embedded)
    watermark = await sync.store.watermark("harvest/time_entry")
    held = await sync.poll_once("harvest")
    assert (held.published, held.deferred) == (0, 1)
    assert await sync.store.watermark("harvest/time_entry") == watermark
    ours = TimeApproved(
        id="ours", subject=key, time=now, actor="pmo-user", time_entry_ids=[entry_id], hours="1"
    )
    committed = Commit(events=(ours,))
    assert await journal.commit(running.id, step="approve", commit=committed, status=SUCCEEDED)
    after = await sync.poll_once("harvest")
    assert (after.published, after.deferred) == (0, 0)
    assert await events(embedded) == [ours]
    moved = await sync.store.watermark("harvest/time_entry")
    assert watermark is not None and moved is not None and moved > watermark


async def test_a_payment_recorded_through_the_gateway_keeps_only_the_mutations_event(
    embedded: GraphClient,
) -> None:
    await _started(embedded, "netsuite")
    invoice = await open_invoice(embedded)
    variables = {"inv": invoice.id, "amount": "10.00", "cur": invoice.total.currency}
    body = await mutate(embedded, PAY, variables, headers=as_role(embedded, Role.FINANCE))
    recorded = body["data"]["recordPayment"]
    assert recorded["__typename"] == "PaymentRecorded", body
    outcome = await inbound(embedded).poll_once("netsuite")
    assert outcome.records >= 1 and outcome.published == 0
    [event] = await events(embedded)
    assert isinstance(event, PaymentReceived) and event.actor == "tester"
    assert event.payment_id == recorded["paymentId"]
