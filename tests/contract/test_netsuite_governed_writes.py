"""NetSuite writes for governed transitions: dimensions, replays, lost answers, over-payment.

The adapter against the NetSuite sandbox over httpx.ASGITransport.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette

from adapters.netsuite import NetSuiteAdapter
from domain.commands import CustomerUpsert, ErpProjectCreate, InvoicePost, PaymentRecord
from domain.errors import UpstreamRejected, UpstreamUnavailable
from domain.ids import CustomerKey, EngagementKey
from domain.models import BillingModel, InvoiceLine
from domain.money import Money
from sandboxes.firm import Engagement, Firm
from sandboxes.netsuite import (
    NETSUITE_ACCOUNT_ID,
    NETSUITE_CLIENT_ID,
    NETSUITE_CLIENT_SECRET,
    create_app,
)
from tests.sandbox_support import FaultOnce
from tests.support import FakeClock, RecordedSleeps, SandboxControl, fast_policy

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
RECORDS = "/services/rest/record/v1"


@pytest.fixture
def app(firm: Firm) -> Starlette:
    return create_app(firm)


@pytest.fixture
async def control(app: Starlette) -> AsyncIterator[SandboxControl]:
    plane = SandboxControl(app, BASE)
    yield plane
    await plane.aclose()


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
async def erp(app: Starlette, sleeps: RecordedSleeps) -> AsyncIterator[NetSuiteAdapter]:
    adapter = NetSuiteAdapter(
        base_url=BASE,
        account_id=NETSUITE_ACCOUNT_ID,
        client_id=NETSUITE_CLIENT_ID,
        client_secret=NETSUITE_CLIENT_SECRET,
        policy=fast_policy(backoff_max_s=0.004, breaker_failure_threshold=50),
        transport=httpx.ASGITransport(app=app),
        sleep=sleeps,
        rng=random.Random(7),
        clock=FakeClock(),
    )
    yield adapter
    await adapter.aclose()


@pytest.fixture
async def lossy(app: Starlette) -> AsyncIterator[Callable[[str], NetSuiteAdapter]]:
    """An adapter whose first POST/PUT to `path` is applied but its answer lost."""
    made: list[NetSuiteAdapter] = []

    def build(path: str) -> NetSuiteAdapter:
        method = "PUT" if "eid:" in path else "POST"
        adapter = NetSuiteAdapter(
            base_url=BASE,
            account_id=NETSUITE_ACCOUNT_ID,
            client_id=NETSUITE_CLIENT_ID,
            client_secret=NETSUITE_CLIENT_SECRET,
            policy=fast_policy(backoff_max_s=0.004, breaker_failure_threshold=50),
            transport=FaultOnce(
                httpx.ASGITransport(app=app), method, path, fault="error_after_rate"
            ),
            sleep=RecordedSleeps(),
            rng=random.Random(7),
            clock=FakeClock(),
        )
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        await adapter.aclose()


def _unactivated(firm: Firm) -> Engagement:
    return next(e for e in firm.engagements if "netsuite" not in e.present_in)


async def _project_command(erp: NetSuiteAdapter, firm: Firm) -> ErpProjectCreate:
    """The never-activated engagement's job, its dimensions found by code."""
    engagement = _unactivated(firm)
    dims = await erp.list_dimensions()
    entities = {e.code: e for e in await erp.list_legal_entities()}
    (customer,) = await erp.get_customers_by_key([CustomerKey(engagement.customer)])
    location = dims.locations[engagement.location]
    return ErpProjectCreate(
        engagement_key=EngagementKey(engagement.key),
        name=engagement.name,
        customer_id=customer.id,
        subsidiary_id=entities[engagement.legal_entity].id,
        department_id=dims.departments[engagement.department],
        class_id=dims.classes[engagement.class_code],
        location_id=location.id,
        start_date=engagement.start_date,
        end_date=engagement.end_date,
        billing_model=BillingModel(engagement.billing_model),
        rate_card_version=engagement.rate_card_version,
        idempotency_key=f"{engagement.key}:erp_project",
    )


async def _invoice_command(erp: NetSuiteAdapter, firm: Firm) -> InvoicePost:
    engagement = next(e for e in firm.engagements if "netsuite" in e.present_in)
    (project,) = await erp.get_erp_projects_by_engagement([EngagementKey(engagement.key)])
    assert project.customer_id is not None and project.subsidiary_id is not None
    amount = Money.of("1500.00", engagement.currency)
    return InvoicePost(
        external_id=f"INV-{engagement.key}-GOV",
        engagement_key=EngagementKey(engagement.key),
        customer_id=project.customer_id,
        subsidiary_id=project.subsidiary_id,
        currency=engagement.currency,
        tran_date=date(2026, 10, 31),
        due_date=date(2026, 11, 30),
        lines=(
            InvoiceLine(
                description="Milestone: Go-live",
                item="MILESTONE",
                quantity=Decimal(1),
                rate=amount,
                amount=amount,
                sources=("MS-00001",),
            ),
        ),
        erp_project_id=project.id,
        idempotency_key=f"{engagement.key}:invoice:gov",
    )


async def test_dimensions_come_by_code_with_location_subsidiaries(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    dims = await erp.list_dimensions()
    assert set(dims.departments) == {d.code for d in firm.departments}
    assert set(dims.classes) == {line.class_code for line in firm.service_lines}
    assert set(dims.locations) == {loc.code for loc in firm.locations}
    entities = {e.code: e.id for e in await erp.list_legal_entities()}
    for location in firm.locations:
        assert dims.locations[location.code].subsidiary_id == entities[location.legal_entity]


async def test_a_job_created_with_dimensions_carries_them_and_a_replay_creates_nothing(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    command = await _project_command(erp, firm)
    project = await erp.create_erp_project(command)
    assert (project.department_id, project.class_id, project.location_id) == (
        command.department_id,
        command.class_id,
        command.location_id,
    )
    assert project.subsidiary_id == command.subsidiary_id
    assert (await erp.create_erp_project(command)).id == project.id


Lossy = Callable[[str], NetSuiteAdapter]


async def test_a_job_whose_answer_is_lost_is_created_once(
    erp: NetSuiteAdapter, control: SandboxControl, lossy: Lossy, firm: Firm
) -> None:
    command = await _project_command(erp, firm)
    project = await lossy(f"{RECORDS}/job").create_erp_project(command)
    assert (await control.by_endpoint())[f"POST {RECORDS}/job"] == 2  # the lost one, the replay
    assert await erp.get_erp_projects_by_engagement([command.engagement_key]) == [project]


async def test_a_customer_upsert_whose_answer_is_lost_makes_one_customer(
    erp: NetSuiteAdapter, control: SandboxControl, lossy: Lossy
) -> None:
    us = next(e for e in await erp.list_legal_entities() if e.code == "US")
    command = CustomerUpsert(
        key=CustomerKey("CUST-9101"), name="Lost Answer Ltd", subsidiary_id=us.id
    )
    created = await lossy(f"{RECORDS}/customer/eid:CUST-9101").upsert_customer(command)
    assert created.name == "Lost Answer Ltd"
    assert (await control.by_endpoint())[f"PUT {RECORDS}/customer/eid:CUST-9101"] == 2
    assert [c.id for c in await erp.get_customers_by_key([command.key])] == [created.id]


async def test_an_invoice_whose_answer_is_lost_is_posted_once(
    erp: NetSuiteAdapter, control: SandboxControl, lossy: Lossy, firm: Firm
) -> None:
    command = await _invoice_command(erp, firm)
    invoice = await lossy(f"{RECORDS}/invoice").post_invoice(command)
    assert (await control.by_endpoint())[f"POST {RECORDS}/invoice"] == 2
    found = await erp.get_invoices_by_engagement([command.engagement_key], with_lines=False)
    assert [i.id for i in found if i.external_id == command.external_id] == [invoice.id]


async def test_two_concurrent_posts_of_one_invoice_make_one_invoice(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    command = await _invoice_command(erp, firm)
    first, second = await asyncio.gather(erp.post_invoice(command), erp.post_invoice(command))
    assert first.id == second.id
    found = await erp.get_invoices_by_engagement([command.engagement_key], with_lines=False)
    assert [i.id for i in found if i.external_id == command.external_id] == [first.id]


async def test_concurrent_posts_with_other_idempotency_keys_resolve_the_external_id(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    command = await _invoice_command(erp, firm)
    other = command.model_copy(update={"idempotency_key": "another-key"})
    first, second = await asyncio.gather(erp.post_invoice(command), erp.post_invoice(other))
    assert first.id == second.id


async def test_a_payment_above_the_amount_remaining_is_refused(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    invoice = await erp.post_invoice(await _invoice_command(erp, firm))
    assert invoice.customer_id is not None
    too_much = Money.of(invoice.amount_remaining.amount + Decimal("0.01"), invoice.total.currency)
    with pytest.raises(UpstreamRejected) as caught:
        await erp.record_payment(
            PaymentRecord(
                external_id="PAY-GOV-1",
                customer_id=invoice.customer_id,
                invoice_id=invoice.id,
                tran_date=date(2026, 11, 20),
                amount=too_much,
                idempotency_key="pay:gov-1",
            )
        )
    assert caught.value.status == 400
    assert caught.value.vendor_code in ("USER_ERROR", "INVALID_VALUE")
    assert caught.value.vendor_message and "exceeds" in caught.value.vendor_message
    (unchanged,) = await erp.get_invoices([invoice.id])
    assert unchanged.amount_remaining == invoice.amount_remaining


async def test_a_payment_whose_answer_is_lost_is_recorded_once(
    erp: NetSuiteAdapter, control: SandboxControl, lossy: Lossy, firm: Firm
) -> None:
    invoice = await erp.post_invoice(await _invoice_command(erp, firm))
    assert invoice.customer_id is not None
    command = PaymentRecord(
        external_id="PAY-GOV-2",
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        tran_date=date(2026, 11, 20),
        amount=invoice.amount_remaining,
        idempotency_key="pay:gov-2",
    )
    payment = await lossy(f"{RECORDS}/customerPayment").record_payment(command)
    assert payment.invoice_ids == (invoice.id,)
    assert (await control.by_endpoint())[f"POST {RECORDS}/customerPayment"] == 2
    assert (await erp.record_payment(command)).id == payment.id
    (settled,) = await erp.get_invoices([invoice.id])
    assert settled.amount_remaining.amount == 0


async def test_every_answer_lost_surfaces_as_unavailable_and_a_replay_resolves_it(
    erp: NetSuiteAdapter, control: SandboxControl, firm: Firm
) -> None:
    command = await _invoice_command(erp, firm)
    await control.faults(error_after_rate=1)
    with pytest.raises(UpstreamUnavailable):
        await erp.post_invoice(command)
    await control.faults(error_after_rate=0)
    invoice = await erp.post_invoice(command)
    found = await erp.get_invoices_by_engagement([command.engagement_key], with_lines=False)
    assert [i.id for i in found if i.external_id == command.external_id] == [invoice.id]
