"""A change made in Salesforce or NetSuite is pushed by the sandbox and becomes one event.

The gateway listens on a real port; the sandbox signs and POSTs its notice
there (Salesforce: a CDC event; NetSuite: a User Event notice); the gateway's
endpoint verifies it and the real `InboundSync` re-reads the record and
publishes the canonical event. Polling is off (as in every test gateway), so the event can only
have come through the webhook (the feeds' watermarks start with the app, as a
webhook secret is set); a poll afterwards finds nothing new.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from domain.events import PaymentReceived
from domain.operations import OperationStatus
from sandboxes.firm import Firm
from tests.contract.test_win_and_activation import _first
from tests.governance_support import governed_client, wait_for_operation
from tests.graph_support import GraphClient
from tests.inbound_support import Vendors, events, inbound, open_invoice, wait_for_event
from tests.serving import serve, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

SECRET = "end-to-end-webhook-secret"


@pytest.fixture(params=["embedded", "real"])
async def pushed(firm: Firm, request: pytest.FixtureRequest) -> AsyncIterator[GraphClient]:
    """The gateway on a real port, both pushing sandboxes sending it their webhooks."""
    async with (
        governed_client(firm, request.param, webhook_secret=SECRET) as client,
        serve(client.app) as url,
    ):
        sync = inbound(client)

        async def primed() -> bool:  # polling is off: the feeds start when the app does
            return all([await sync.store.watermark(f.name) is not None for f in sync.feeds])

        await wait_until(primed, timeout_s=20, what="the feeds' first start")
        for system in ("salesforce", "netsuite"):
            async with client.sandboxes.control(system) as control:
                target = {"url": f"{url}/webhooks/{system}", "secret": SECRET, "backoff_ms": 50}
                assert (await control.post("/__sandbox/webhooks", json=target)).is_success
        try:
            yield client
        finally:
            for system in ("salesforce", "netsuite"):
                await client.sandboxes.apps[system].state.webhooks.aclose()


async def deliveries(client: GraphClient, system: str) -> list[dict[str, Any]]:
    async with client.sandboxes.control(system) as control:
        found: list[dict[str, Any]] = (await control.get("/__sandbox/webhooks")).json()[
            "deliveries"
        ]
    return found


async def delivered(client: GraphClient, system: str, count: int) -> list[dict[str, Any]]:
    async def done() -> bool:
        return len(await deliveries(client, system)) >= count

    await wait_until(done, timeout_s=20, what=f"{count} {system} deliveries")
    return await deliveries(client, system)


async def test_a_deal_closed_won_in_salesforce_arrives_by_webhook_and_is_activated_once(
    pushed: GraphClient,
) -> None:
    crm_id, key = await _first(pushed, ready=True)
    await Vendors(pushed).edit_opportunity(crm_id, StageName="Closed Won")
    [won] = await wait_for_event(pushed, "opportunity.won", timeout_s=20)
    assert (won.subject, won.actor) == (key, "sync:salesforce")
    activation = await wait_for_operation(pushed, f"activation:{key}")
    assert activation.status is OperationStatus.SUCCEEDED, activation
    [first] = await delivered(pushed, "salesforce", 1)
    assert (first["status"], first["http_status"], first["attempts"]) == ("delivered", 202, 1)
    # another change of the same deal: pushed, accepted, re-read - and no second win
    await Vendors(pushed).edit_opportunity(crm_id, Description="edited in Salesforce")
    second = (await delivered(pushed, "salesforce", 2))[1]
    assert (second["status"], second["http_status"]) == ("delivered", 202)
    assert (await inbound(pushed).poll_once("salesforce")).published == 0
    assert len(await events(pushed, "opportunity.won")) == 1
    assert len(await events(pushed, "project.activated")) == 1


async def test_a_payment_applied_in_netsuite_arrives_by_webhook_as_one_event(
    pushed: GraphClient,
) -> None:
    invoice = await open_invoice(pushed)
    payment_id = await Vendors(pushed).pay_in_netsuite(
        invoice.customer_id, invoice.id, Decimal("10.00")
    )
    [received] = await wait_for_event(pushed, "payment.received", timeout_s=20)
    assert isinstance(received, PaymentReceived)
    assert (received.payment_id, received.invoice_id, received.subject) == (
        payment_id,
        invoice.id,
        invoice.engagement_key,
    )
    assert received.actor == "sync:netsuite"
    [logged] = await delivered(pushed, "netsuite", 1)
    assert (logged["status"], logged["http_status"]) == ("delivered", 202)
    assert (await inbound(pushed).poll_once("netsuite")).published == 0
    assert len(await events(pushed, "payment.received")) == 1
