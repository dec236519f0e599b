"""Harvest writes for governed transitions: rejection, expense approval, invoice marking.

The adapter against the Harvest sandbox over httpx.ASGITransport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.harvest import HarvestAdapter
from domain.commands import InvoiceMarking
from domain.errors import InvalidInput, NotFound, UpstreamRejected, UpstreamUnavailable
from domain.ids import EngagementKey, RecordId
from domain.models import ApprovalStatus, TimeEntry
from sandboxes.firm import Firm
from sandboxes.harvest import HARVEST_ACCOUNT_ID, HARVEST_TOKEN, create_app
from tests.sandbox_support import FaultOnce
from tests.support import SandboxControl, fast_policy

BASE = "https://api.harvestapp.test"
AS_OF = date(2026, 10, 31)
POST_INVOICE = "POST /v2/invoices"
VENDOR_HEADERS = {
    "Authorization": f"Bearer {HARVEST_TOKEN}",
    "Harvest-Account-Id": HARVEST_ACCOUNT_ID,
    "User-Agent": "contract-tests (qa@example.com)",
}


@pytest.fixture
async def sandbox(firm: Firm) -> AsyncIterator[SandboxControl]:
    box = SandboxControl(create_app(firm, rate_limit=None), BASE, VENDOR_HEADERS)
    yield box
    await box.aclose()


def _build(transport: httpx.AsyncBaseTransport) -> HarvestAdapter:
    return HarvestAdapter(
        base_url=BASE,
        token=HARVEST_TOKEN,
        account_id=HARVEST_ACCOUNT_ID,
        policy=fast_policy(breaker_failure_threshold=50),
        transport=transport,
        today=lambda: AS_OF,
        report_ttl_s=0,
        rate_limit=None,
        report_rate_limit=None,
    )


@pytest.fixture
async def adapter(sandbox: SandboxControl) -> AsyncIterator[HarvestAdapter]:
    made = _build(sandbox.transport)
    yield made
    await made.aclose()


async def _open_work(adapter: HarvestAdapter, firm: Firm) -> tuple[EngagementKey, list[TimeEntry]]:
    """An active engagement with approved, billable, unbilled time (and some unapproved)."""
    for engagement in firm.engagements:
        if "harvest" not in engagement.present_in or engagement.status != "ACTIVE":
            continue
        key = EngagementKey(engagement.key)
        entries = await adapter.get_time_entries_by_engagement([key], billed=False)
        approved = [e for e in entries if e.billable and e.approval is ApprovalStatus.APPROVED]
        if approved and any(e.approval is not ApprovalStatus.APPROVED for e in entries):
            return key, entries
    raise AssertionError("the seed has no engagement with open approved time")


def _marking(
    key: EngagementKey, entries: list[TimeEntry], number: str = "INV-T-1"
) -> InvoiceMarking:
    days = [e.spent_date for e in entries]
    return InvoiceMarking(
        engagement_key=key,
        number=number,
        date_from=min(days),
        date_to=max(days),
        issue_date=AS_OF,
    )


async def test_mark_invoiced_bills_approved_work_once_and_the_report_follows(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    key, entries = await _open_work(adapter, firm)
    command = _marking(key, entries)
    expected = sorted(
        (e.id for e in entries if e.billable and e.approval is ApprovalStatus.APPROVED), key=int
    )
    [before] = await adapter.get_uninvoiced([key])
    marked = await adapter.mark_invoiced(command)
    assert marked.created and marked.number == "INV-T-1" and marked.engagement_key == key
    assert list(marked.time_entry_ids) == expected
    after = {e.id: e for e in await adapter.get_time_entries_by_engagement([key])}
    for entry in entries:
        billed = entry.id in expected
        assert after[entry.id].billed is billed and after[entry.id].locked is (
            billed or entry.locked
        )
        assert after[entry.id].invoice_ref == ("INV-T-1" if billed else None)
    hours = sum((after[i].hours for i in expected), Decimal(0))
    [later] = await adapter.get_uninvoiced([key]) or [None]  # type: ignore[list-item]
    remaining = later.hours if later is not None else Decimal(0)
    assert before.hours - remaining == hours

    await sandbox.reset_calls()
    again = await adapter.mark_invoiced(command)
    assert (again.invoice_id, again.time_entry_ids, again.expense_ids) == (
        marked.invoice_id,
        marked.time_entry_ids,
        marked.expense_ids,
    )
    assert again.created is False
    assert await sandbox.calls(POST_INVOICE) == 0


async def test_marked_expenses_are_listed_with_the_invoice(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    key, entries = await _open_work(adapter, firm)
    command = _marking(key, entries, "INV-T-2")
    expenses = await adapter.get_expenses_by_engagement(
        [key], date_from=command.date_from, date_to=command.date_to
    )
    expected = sorted(
        (x.id for x in expenses if x.approved and x.billable and not x.billed), key=int
    )
    marked = await adapter.mark_invoiced(command)
    assert list(marked.expense_ids) == expected
    invoice = await sandbox.vendor("GET", f"/v2/invoices/{marked.invoice_id}")
    assert invoice["number"] == "INV-T-2"
    kinds = [line["kind"] for line in invoice["line_items"]]
    assert kinds.count("Service") == len(marked.time_entry_ids)
    assert kinds.count("Product") == len(marked.expense_ids)


async def test_a_lost_invoice_answer_is_found_by_number_not_posted_again(
    sandbox: SandboxControl, firm: Firm, adapter: HarvestAdapter
) -> None:
    key, entries = await _open_work(adapter, firm)
    command = _marking(key, entries, "INV-T-3")
    lossy = FaultOnce(sandbox.transport, "POST", "/v2/invoices", fault="error_after_rate")
    other = _build(lossy)
    try:
        marked = await other.mark_invoiced(command)
    finally:
        await other.aclose()
    assert not lossy.armed and marked.time_entry_ids
    assert await sandbox.calls(POST_INVOICE) == 1
    assert (await adapter.mark_invoiced(command)).invoice_id == marked.invoice_id
    listing = await sandbox.vendor("GET", "/v2/invoices", params={"per_page": 2000})
    assert [i["number"] for i in listing["invoices"]].count("INV-T-3") == 1


async def test_every_answer_lost_then_a_replay_makes_one_invoice(
    sandbox: SandboxControl, firm: Firm, adapter: HarvestAdapter
) -> None:
    key, entries = await _open_work(adapter, firm)
    command = _marking(key, entries, "INV-T-4")
    await sandbox.faults(error_after_rate=1)
    with pytest.raises(UpstreamUnavailable):
        await adapter.mark_invoiced(command)
    await sandbox.faults(error_after_rate=0)
    marked = await adapter.mark_invoiced(command)
    listing = await sandbox.vendor("GET", "/v2/invoices", params={"per_page": 2000})
    assert [i["id"] for i in listing["invoices"] if i["number"] == "INV-T-4"] == [
        int(marked.invoice_id)
    ]


async def test_marking_an_engagement_without_a_project_is_not_found(
    adapter: HarvestAdapter,
) -> None:
    command = InvoiceMarking(
        engagement_key=EngagementKey("ENG-2026-99999"),
        number="INV-X",
        date_from=date(2026, 1, 1),
        date_to=date(2026, 1, 31),
        issue_date=AS_OF,
    )
    with pytest.raises(NotFound):
        await adapter.mark_invoiced(command)


# -- rejection and expense approval ------------------------------------------------------


async def _entries(adapter: HarvestAdapter, firm: Firm) -> list[TimeEntry]:
    keys = [EngagementKey(e.key) for e in firm.engagements if "harvest" in e.present_in]
    return await adapter.get_time_entries_by_engagement(keys, date_from=date(2026, 10, 1))


async def test_rejecting_submitted_time_sends_it_back_and_twice_is_harmless(
    adapter: HarvestAdapter, firm: Firm
) -> None:
    submitted = [e for e in await _entries(adapter, firm) if e.approval is ApprovalStatus.SUBMITTED]
    ids = [e.id for e in submitted[:3]]
    assert len(ids) == 3
    rejected = await adapter.reject_time_entries(ids, "hours exceed the estimate")
    assert [e.id for e in rejected] == ids
    assert all(e.approval is ApprovalStatus.UNSUBMITTED and not e.locked for e in rejected)
    again = await adapter.reject_time_entries(ids, "hours exceed the estimate")
    assert [e.approval for e in again] == [ApprovalStatus.UNSUBMITTED] * 3


async def test_rejecting_approved_or_billed_time_is_refused_with_the_vendor_words(
    adapter: HarvestAdapter, firm: Firm
) -> None:
    entries = await _entries(adapter, firm)
    approved = next(e for e in entries if e.approval is ApprovalStatus.APPROVED and not e.billed)
    with pytest.raises(UpstreamRejected) as caught:
        await adapter.reject_time_entries([approved.id], "wrong project")
    assert caught.value.status == 422
    assert caught.value.vendor_message is not None and "locked" in caught.value.vendor_message
    billed = next(e for e in await adapter.get_time_entries_by_engagement(
        [EngagementKey(k.key) for k in firm.engagements if "harvest" in k.present_in][:5],
        billed=True,
    ))  # fmt: skip
    with pytest.raises(UpstreamRejected):
        await adapter.reject_time_entries([billed.id], "wrong project")


async def test_a_rejection_needs_a_reason(adapter: HarvestAdapter) -> None:
    with pytest.raises(InvalidInput):
        await adapter.reject_time_entries([RecordId("1")], "  ")


async def test_approving_expenses_locks_them_and_billed_ones_are_refused(
    adapter: HarvestAdapter, sandbox: SandboxControl, firm: Firm
) -> None:
    keys = [EngagementKey(e.key) for e in firm.engagements if "harvest" in e.present_in]
    expenses = await adapter.get_expenses_by_engagement(keys)
    pending = [x for x in expenses if not x.approved and not x.billed][:2]
    assert len(pending) == 2
    approved = await adapter.approve_expenses([x.id for x in pending])
    assert all(x.approved for x in approved)
    raw: dict[str, Any] = await sandbox.vendor("GET", f"/v2/expenses/{pending[0].id}")
    assert raw["is_closed"] is True and raw["is_locked"] is True
    assert [x.id for x in await adapter.approve_expenses([pending[0].id])] == [pending[0].id]
    billed = next(x for x in expenses if x.billed)
    with pytest.raises(UpstreamRejected) as caught:
        await adapter.approve_expenses([billed.id])
    assert caught.value.status == 422 and caught.value.vendor_message
