"""Generating, posting and paying invoices through the governed transitions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

import pytest

from adapters.harvest import HarvestAdapter
from adapters.harvest.commands import TimeEntryCreate
from domain.governance import Role
from domain.ids import EngagementKey
from domain.models import Invoice
from sandboxes.firm import Firm
from tests.governance_support import as_role, governed_client, mutate, store, writes
from tests.graph_support import AS_OF, GraphClient
from workflows.systems import Systems

GENERATE = """mutation($eng: String!, $end: Date!, $key: String) {
  generateInvoice(engagementKey: $eng, periodEnd: $end, idempotencyKey: $key) {
    __typename
    ... on InvoiceDraft { draftId externalId total { amount currency }
                          lines { description item quantity amount { amount } sources } }
    ... on InvoiceRejected { code message ownerRole violations { code message } }
    ... on BusinessRejection { code message ownerRole }
    ... on DeadLettered { error }
  } }"""

POST = """mutation($draft: ID!, $key: String) {
  postInvoice(draftId: $draft, idempotencyKey: $key) {
    __typename
    ... on InvoicePosted { operationId invoiceId externalId total { amount currency }
                           crmInvoicedTotal }
    ... on BusinessRejection { code message }
    ... on DeadLettered { error }
  } }"""

PAY = """mutation($inv: ID!, $amount: Decimal!, $cur: String!, $key: String) {
  recordPayment(invoiceId: $inv, amount: $amount, currency: $cur, date: "2026-10-31",
                idempotencyKey: $key) {
    __typename
    ... on PaymentRecorded { paymentId externalId amount { amount currency } }
    ... on BusinessRejection { code message }
  } }"""

APPROVE = """mutation($ids: [ID!]!, $key: String) {
  approveTimeEntries(ids: $ids, idempotencyKey: $key) {
    __typename
    ... on TimeEntriesApproved { approvedIds alreadyApprovedIds }
    ... on BusinessRejection { code message ownerRole }
  } }"""


@pytest.fixture(params=["embedded", "real"])
async def client(firm: Firm, request: pytest.FixtureRequest) -> AsyncIterator[GraphClient]:
    async with governed_client(firm, request.param) as gateway:
        yield gateway


def _tm_engagement(firm: Firm) -> str:
    """An active T&M engagement with approved, billable, unbilled time by the firm's last day."""
    for engagement in firm.engagements:
        if engagement.billing_model != "TIME_AND_MATERIALS" or engagement.status != "ACTIVE":
            continue
        if len(engagement.present_in) < 4:
            continue
        waiting = [
            t
            for t in firm.time_entries
            if t.engagement_key == engagement.key and t.approved and t.billable and not t.invoice
        ]
        if len(waiting) >= 5:
            return engagement.key
    raise AssertionError("the demo firm has no active T&M engagement with unbilled time")


async def _erp_invoices(client: GraphClient, key: str) -> list[Invoice]:
    systems: Systems = client.app.state.systems
    return await systems.erp.get_invoices_by_engagement([EngagementKey(key)], with_lines=False)


async def test_a_draft_is_posted_once_marks_its_inputs_and_updates_the_crm(
    client: GraphClient, firm: Firm
) -> None:
    key = _tm_engagement(firm)
    finance = as_role(client, Role.FINANCE)
    before = await _erp_invoices(client, key)
    body = await mutate(client, GENERATE, {"eng": key, "end": AS_OF.isoformat()}, headers=finance)
    draft = body["data"]["generateInvoice"]
    assert draft["__typename"] == "InvoiceDraft", body
    sources = [s for line in draft["lines"] for s in line["sources"]]
    assert sources and len(sources) == len(set(sources))
    total = sum(Decimal(line["amount"]["amount"]) for line in draft["lines"])
    assert Decimal(draft["total"]["amount"]) == total
    posted = await mutate(client, POST, {"draft": draft["draftId"]}, headers=finance, key="p-1")
    invoice = posted["data"]["postInvoice"]
    assert invoice["__typename"] == "InvoicePosted", posted
    after = await _erp_invoices(client, key)
    assert len(after) == len(before) + 1
    erp_total = sum(i.total.amount for i in after)
    assert Decimal(invoice["crmInvoicedTotal"]) == erp_total
    [crm] = await client.app.state.systems.crm.get_opportunities_by_engagement([key])
    assert crm.invoiced_amount.amount == erp_total
    entries = await client.app.state.systems.time.get_time_entries_by_engagement([key])
    billed_now = {e.external_ref for e in entries if e.invoice_ref == invoice["externalId"]}
    assert billed_now == {s for s in sources if s.startswith("TE-")}
    claims = await store(client).claims(sources)
    assert set(claims.values()) == {invoice["externalId"]}
    types = [e.type for _, e in await store(client).events()]
    assert types.count("invoice.generated") == 1 and types.count("invoice.posted") == 1
    # the same key answers the same; another key is told the draft is posted
    written = await writes(client)
    again = await mutate(client, POST, {"draft": draft["draftId"]}, headers=finance, key="p-1")
    assert again["data"]["postInvoice"] == invoice
    twice = await mutate(client, POST, {"draft": draft["draftId"]}, headers=finance, key="p-2")
    assert twice["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "already posted" in twice["errors"][0]["message"]
    assert await writes(client) == written
    # nothing is left to bill for the period
    empty = await mutate(client, GENERATE, {"eng": key, "end": AS_OF.isoformat()}, headers=finance)
    assert empty["data"]["generateInvoice"]["code"] == "NOTHING_TO_BILL"


@pytest.fixture(params=["embedded", "real"])
async def unthrottled(firm: Firm, request: pytest.FixtureRequest) -> AsyncIterator[GraphClient]:
    """Harvest's 100 calls / 15 s would pace 50 concurrent generations over a minute."""
    options: dict[str, dict[str, Any]] = {"harvest": {"rate_limit": None}}
    async with governed_client(firm, request.param, options, harvest_rate_limit=None) as gateway:
        yield gateway


async def test_fifty_concurrent_generate_and_post_make_one_erp_invoice(
    unthrottled: GraphClient, firm: Firm
) -> None:
    client = unthrottled
    key = _tm_engagement(firm)
    finance = as_role(client, Role.FINANCE)
    before = len(await _erp_invoices(client, key))

    async def bill() -> dict[str, Any]:
        made = await mutate(
            client, GENERATE, {"eng": key, "end": AS_OF.isoformat()}, headers=finance
        )
        draft = made["data"]["generateInvoice"]
        if draft["__typename"] != "InvoiceDraft":
            return {"draft": draft}
        return await mutate(client, POST, {"draft": draft["draftId"]}, headers=finance)

    results = await asyncio.gather(*(bill() for _ in range(50)))
    assert len(await _erp_invoices(client, key)) == before + 1
    outcomes = {
        (r.get("data") or {}).get("postInvoice", {}).get("__typename")
        or (r.get("errors") or [{}])[0].get("message", "")[:40]
        for r in results
    }
    assert outcomes <= {"InvoicePosted", "draft d"}, outcomes
    posted = {
        r["data"]["postInvoice"]["invoiceId"]
        for r in results
        if r.get("data") and r["data"].get("postInvoice")
    }
    assert len(posted) == 1


async def test_payments_refuse_overpayment_and_wrong_currency_and_post_once(
    client: GraphClient, firm: Firm
) -> None:
    open_invoice = next(i for i in firm.invoices if i.status == "open" and i.amount_remaining > 0)
    [erp] = [
        i
        for i in await _erp_invoices(client, open_invoice.engagement_key)
        if i.external_id == open_invoice.key
    ]
    finance = as_role(client, Role.FINANCE)
    too_much = str(erp.amount_remaining.amount + Decimal("0.01"))
    over = await mutate(
        client, PAY, {"inv": erp.id, "amount": too_much, "cur": erp.total.currency}, headers=finance
    )
    assert over["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "outstanding" in over["errors"][0]["message"]
    other = "EUR" if erp.total.currency != "EUR" else "USD"
    wrong = await mutate(
        client, PAY, {"inv": erp.id, "amount": "1.00", "cur": other}, headers=finance
    )
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    written = await writes(client)
    assert written["netsuite"] == 0
    amount = str(erp.amount_remaining.amount)
    variables = {"inv": erp.id, "amount": amount, "cur": erp.total.currency}
    paid = await mutate(client, PAY, variables, headers=finance, key="pay-1")
    result = paid["data"]["recordPayment"]
    assert result["__typename"] == "PaymentRecorded", paid
    replay = await mutate(client, PAY, variables, headers=finance, key="pay-1")
    assert replay["data"]["recordPayment"] == result
    [settled] = await client.app.state.systems.erp.get_invoices([erp.id])
    assert settled.amount_remaining.amount == 0
    types = [e.type for _, e in await store(client).events()]
    assert types.count("payment.received") == 1


async def test_approving_billed_time_is_refused_and_changes_nothing(
    client: GraphClient, firm: Firm
) -> None:
    billed = next(t for t in firm.time_entries if t.invoice)
    entries = await client.app.state.systems.time.get_time_entries_by_engagement(
        [EngagementKey(billed.engagement_key)]
    )
    [entry] = [e for e in entries if e.external_ref == billed.key]
    body = await mutate(client, APPROVE, {"ids": [entry.id]}, headers=as_role(client, Role.PMO))
    result = body["data"]["approveTimeEntries"]
    assert result["__typename"] == "BusinessRejection"
    assert result["code"] == "TIME_ENTRY_BILLED" and result["ownerRole"] == "PMO"
    assert (await writes(client))["harvest"] == 0


async def test_invoicing_an_engagement_that_is_not_active_is_refused(
    client: GraphClient, firm: Firm
) -> None:
    open_deal = next(o for o in firm.opportunities if not o.stage.startswith("Closed"))
    body = await mutate(
        client,
        GENERATE,
        {"eng": open_deal.engagement_key, "end": AS_OF.isoformat()},
        headers=as_role(client, Role.FINANCE),
    )
    result = body["data"]["generateInvoice"]
    assert result["__typename"] == "BusinessRejection"
    assert result["code"] == "ENGAGEMENT_NOT_ACTIVE"
    exceptions = await store(client).business_exceptions([Role.PMO])
    assert [e.code for e in exceptions] == ["ENGAGEMENT_NOT_ACTIVE"]


async def test_work_approved_between_draft_and_post_is_reported_not_silently_billed(
    client: GraphClient, firm: Firm
) -> None:
    """Harvest marks invoiced by date range: time approved inside the draft's window after
    the draft was made gets marked too. The post says so with a FINANCE exception."""
    finance, pmo = as_role(client, Role.FINANCE), as_role(client, Role.PMO)
    key = _tm_engagement(firm)
    billable = [
        t for t in firm.time_entries
        if t.engagement_key == key and t.approved and t.billable and not t.invoice
    ]  # fmt: skip
    inside = min(t.spent_date for t in billable) + timedelta(days=1)
    systems: Systems = client.app.state.systems
    harvest = cast(HarvestAdapter, systems.time)
    late = await harvest.create_time_entry(  # logged now, dated inside the draft's window
        TimeEntryCreate(
            external_ref="TE-LATE-1", engagement_key=EngagementKey(key), spent_date=inside,
            hours=Decimal("2.50"), task=billable[0].task, notes="late booking",
        )
    )  # fmt: skip
    made = await mutate(client, GENERATE, {"eng": key, "end": AS_OF.isoformat()}, headers=finance)
    draft = made["data"]["generateInvoice"]
    entry = late
    approved = await mutate(client, APPROVE, {"ids": [entry.id]}, headers=pmo)
    assert approved["data"]["approveTimeEntries"]["approvedIds"] == [entry.id]
    posted = await mutate(client, POST, {"draft": draft["draftId"]}, headers=finance)
    assert posted["data"]["postInvoice"]["__typename"] == "InvoicePosted"
    [exception] = [
        e
        for e in await store(client).business_exceptions([Role.FINANCE])
        if e.code == "WORK_MARKED_BEYOND_INVOICE"
    ]
    assert exception.context["time_entry_ids"] == [entry.id]
