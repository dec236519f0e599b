"""The NetSuite adapter against its sandbox, over httpx.ASGITransport."""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette

from adapters.netsuite import NetSuiteAdapter
from adapters.resilience import ResiliencePolicy
from domain.commands import (
    BillingScheduleCreate,
    CustomerUpsert,
    ErpProjectCreate,
    InvoicePost,
    PaymentRecord,
)
from domain.errors import (
    AuthFailed,
    CircuitOpen,
    NotFound,
    UpstreamRejected,
    UpstreamUnavailable,
)
from domain.health import BreakerState
from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import (
    BillingModel,
    BillingScheduleKind,
    BillingScheduleLine,
    CustomerStatus,
    InvoiceLine,
    InvoiceStatus,
    Ledger,
)
from domain.money import Money
from domain.ports import ERP
from sandboxes.firm import Engagement, Firm
from sandboxes.netsuite import (
    NETSUITE_ACCOUNT_ID,
    NETSUITE_CLIENT_ID,
    NETSUITE_CLIENT_SECRET,
    create_app,
)
from tests.support import FakeClock, RecordedSleeps, SandboxControl, closing_factory, fast_policy

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
SUITEQL = f"POST {SUITEQL_PATH}"
TOKEN = "POST /services/rest/auth/oauth2/v1/token"
FAST = fast_policy(backoff_max_s=0.004, breaker_failure_threshold=3)


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
def clock() -> FakeClock:
    return FakeClock()


AdapterFactory = Callable[..., NetSuiteAdapter]


@pytest.fixture
async def make(
    app: Starlette, sleeps: RecordedSleeps, clock: FakeClock
) -> AsyncIterator[AdapterFactory]:
    def build(
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        secret: str = NETSUITE_CLIENT_SECRET,
        policy: ResiliencePolicy = FAST,
        page_size: int = 1000,
    ) -> NetSuiteAdapter:
        return NetSuiteAdapter(
            base_url=BASE,
            account_id=NETSUITE_ACCOUNT_ID,
            client_id=NETSUITE_CLIENT_ID,
            client_secret=secret,
            policy=policy,
            transport=transport or httpx.ASGITransport(app=app),
            sleep=sleeps,
            rng=random.Random(7),
            clock=clock,
            page_size=page_size,
        )

    async with closing_factory(build) as factory:
        yield factory


@pytest.fixture
async def erp(make: AdapterFactory) -> NetSuiteAdapter:
    adapter = make()
    await adapter.list_legal_entities()  # token + reference data, so counts below are exact
    return adapter


def breaker(adapter: NetSuiteAdapter) -> BreakerState:
    return adapter.breaker_state


def activated(firm: Firm) -> list[Engagement]:
    return [e for e in firm.engagements if "netsuite" in e.present_in]


async def invoice_ids(erp: NetSuiteAdapter, firm: Firm) -> list[RecordId]:
    keys = [EngagementKey(e.key) for e in activated(firm)]
    return [invoice.id for invoice in await erp.get_invoices_by_engagement(keys)]


# --- reads --------------------------------------------------------------------


async def test_adapter_satisfies_the_erp_port(erp: NetSuiteAdapter) -> None:
    port: ERP = erp
    assert port.name == "netsuite"
    assert port.breaker_state is BreakerState.CLOSED


async def test_legal_entities_come_from_subsidiaries_with_iso_currencies(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    entities = await erp.list_legal_entities()
    got = {(e.code, e.name, e.country, e.currency) for e in entities}
    want = {(e.code, e.name, e.country, e.currency) for e in firm.legal_entities}
    assert got == want
    assert all(e.id.isdigit() for e in entities)


async def test_customers_by_key_and_by_id_map_the_customer_master(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    sources = [*firm.customers, *firm.duplicate_customers]
    by_key = await erp.get_customers_by_key([CustomerKey(c.key) for c in sources])
    assert sorted(c.key for c in by_key) == sorted(c.key for c in sources)
    for customer in by_key:
        source = next(c for c in sources if c.key == customer.key)
        assert (customer.name, customer.legal_entity, customer.currency) == (
            source.name,
            source.legal_entity,
            source.currency,
        )
        assert customer.status is CustomerStatus(source.status)
        assert customer.tax_jurisdiction == source.tax_jurisdiction
        assert customer.modified_at is not None
    by_id = await erp.get_customers([c.id for c in by_key] + [RecordId("999999")])
    assert by_id == by_key


async def test_batch_reads_of_nothing_or_of_bogus_ids_make_no_call(
    erp: NetSuiteAdapter, control: SandboxControl
) -> None:
    await control.reset_calls()
    assert await erp.get_customers([RecordId("x'; DROP"), RecordId("")]) == []
    assert await erp.get_invoices([]) == []
    assert await erp.get_customers_by_key([]) == []
    assert await erp.get_ledger([]) == Ledger()
    assert await erp.get_payment_applications([RecordId("x'; DROP"), RecordId("")]) == {}
    assert await control.calls() == 0


async def test_get_invoices_of_500_ids_is_three_calls(
    erp: NetSuiteAdapter, control: SandboxControl, firm: Firm
) -> None:
    ids = (await invoice_ids(erp, firm))[:500]
    await control.reset_calls()
    invoices = await erp.get_invoices(ids)
    assert len(invoices) == 500
    lines = sum(len(invoice.lines) for invoice in invoices)
    assert await control.by_endpoint() == {SUITEQL: 1 + math.ceil(lines / 1000)}
    assert 1 + math.ceil(lines / 1000) == 3


async def test_suiteql_pages_are_followed_across_page_boundaries(
    make: AdapterFactory, control: SandboxControl, firm: Firm
) -> None:
    adapter = make(page_size=7)
    sources = [*firm.customers, *firm.duplicate_customers]
    await adapter.list_legal_entities()
    await control.reset_calls()
    customers = await adapter.get_customers_by_key([CustomerKey(c.key) for c in sources])
    assert len(customers) == len(sources)
    assert len({c.id for c in customers}) == len(sources)
    assert await control.by_endpoint() == {SUITEQL: math.ceil(len(sources) / 7)}


async def test_more_ids_than_one_in_list_are_chunked(
    erp: NetSuiteAdapter, control: SandboxControl, firm: Firm
) -> None:
    real = await invoice_ids(erp, firm)
    ids = real[:300] + [RecordId(str(n)) for n in range(1, 1201)]
    await control.reset_calls()
    found = await erp.get_invoices(ids)
    assert {i.id for i in found} == set(real[:300])
    lines = sum(len(invoice.lines) for invoice in found)
    # two header chunks (1000 + 500 ids), then the lines of what was found, 1000 rows a page
    assert (await control.by_endpoint())[SUITEQL] == 2 + math.ceil(lines / 1000)


async def test_invoices_by_engagement_carry_lines_sources_and_statuses(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    keys = [EngagementKey(e.key) for e in activated(firm)]
    invoices = {i.external_id: i for i in await erp.get_invoices_by_engagement(keys)}
    assert len(invoices) == len(firm.invoices)
    for source in firm.invoices:
        invoice = invoices[source.key]
        assert invoice.engagement_key == source.engagement_key
        assert invoice.total == Money(amount=source.total, currency=source.currency)
        assert invoice.amount_remaining.amount == source.amount_remaining
        assert [line.amount.amount for line in invoice.lines] == [x.amount for x in source.lines]
        assert [line.sources for line in invoice.lines] == [x.sources for x in source.lines]
        assert [line.quantity for line in invoice.lines] == [x.quantity for x in source.lines]
        assert invoice.tran_date == source.tran_date
    statuses = {invoice.status for invoice in invoices.values()}
    assert statuses == {InvoiceStatus.PAID, InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID}


async def test_payments_by_engagement_name_the_invoices_they_settle(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    source = firm.payments[0]
    invoice = next(i for i in firm.invoices if i.key == source.invoice)
    payments = await erp.get_payments_by_engagement([EngagementKey(invoice.engagement_key)])
    payment = next(p for p in payments if p.external_id == source.key)
    assert payment.amount == Money(amount=source.amount, currency=source.currency)
    settled = await erp.get_invoices(list(payment.invoice_ids))
    assert [i.external_id for i in settled] == [invoice.key]


async def test_erp_projects_and_billing_schedules_by_engagement(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    engagement = next(e for e in activated(firm) if e.not_to_exceed is not None)
    (project,) = await erp.get_erp_projects_by_engagement([EngagementKey(engagement.key)])
    assert project.name == engagement.name
    assert project.billing_model is BillingModel(engagement.billing_model)
    assert project.not_to_exceed == Money(
        amount=engagement.not_to_exceed or 0, currency=engagement.currency
    )
    assert project.start_date == engagement.start_date
    assert None not in (project.department_id, project.class_id, project.location_id)
    source = next(s for s in firm.billing_schedules if s.engagement_key == engagement.key)
    (schedule,) = await erp.get_billing_schedules_by_engagement([EngagementKey(engagement.key)])
    assert schedule.kind is BillingScheduleKind(source.kind)
    assert schedule.frequency == source.frequency
    assert [line.amount for line in schedule.lines] == [
        Money(amount=line.amount, currency=engagement.currency) for line in source.lines
    ]


# --- call counts of batch reads -------------------------------------------------


class SuiteQLTap(httpx.AsyncBaseTransport):
    """Passes requests through and records each SuiteQL query sent (not its later pages)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.queries: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == SUITEQL_PATH and request.url.params.get("offset") == "0":
            self.queries.append(json.loads(await request.aread())["q"])
        return await self.inner.handle_async_request(request)

    def tables(self) -> dict[str, int]:
        """Queries sent by the table they read (the outer FROM: sub-selects come earlier)."""
        return dict(Counter(re.findall(r"\bFROM (\w+)", q)[-1] for q in self.queries))


@pytest.fixture
def tap(app: Starlette) -> SuiteQLTap:
    return SuiteQLTap(httpx.ASGITransport(app=app))


@pytest.fixture
async def counted(
    make: AdapterFactory, tap: SuiteQLTap, control: SandboxControl
) -> NetSuiteAdapter:
    """An adapter whose token and reference data are in hand, with the tap and counts reset."""
    adapter = make(transport=tap)
    await adapter.list_legal_entities()
    tap.queries.clear()
    await control.reset_calls()
    return adapter


def all_keys(firm: Firm) -> list[EngagementKey]:
    return [EngagementKey(e.key) for e in activated(firm)]


async def test_list_customers_is_one_query_for_every_customer_and_planted_duplicate(
    counted: NetSuiteAdapter, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    customers = await counted.list_customers()
    assert await control.by_endpoint() == {SUITEQL: 1}
    assert tap.tables() == {"customer": 1}
    sources = [*firm.customers, *firm.duplicate_customers]
    assert len(customers) == len(sources) == 63
    assert sorted(c.key for c in customers) == sorted(c.key for c in sources)
    planted = [d for d in firm.discrepancies if d.kind == "DUPLICATE_ERP_CUSTOMER"]
    assert planted
    assert all(set(d.records) <= {c.key for c in customers} for d in planted)
    assert customers == await counted.get_customers([c.id for c in customers])


async def test_list_customers_follows_pages_of_one_query(
    make: AdapterFactory, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    adapter = make(transport=tap, page_size=7)
    await adapter.list_legal_entities()
    tap.queries.clear()
    await control.reset_calls()
    customers = await adapter.list_customers()
    assert len({c.id for c in customers}) == len(customers) == 63
    assert tap.tables() == {"customer": 1}
    assert await control.by_endpoint() == {SUITEQL: math.ceil(63 / 7)}


async def test_invoices_without_lines_are_one_header_query_for_all_engagements(
    counted: NetSuiteAdapter, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    bare = await counted.get_invoices_by_engagement(all_keys(firm), with_lines=False)
    assert await control.by_endpoint() == {SUITEQL: 1}
    assert tap.tables() == {"transaction": 1}
    assert "transactionline" not in tap.queries[0]
    assert len(bare) == len(firm.invoices)
    assert all(invoice.lines == () for invoice in bare)
    full = await counted.get_invoices_by_engagement(all_keys(firm))
    assert [invoice.model_copy(update={"lines": ()}) for invoice in full] == bare
    ids: dict[str, RecordId] = {c.key: c.id for c in await counted.list_customers()}
    assert {i.external_id: i.customer_id for i in bare} == {
        source.key: ids[source.customer] for source in firm.invoices
    }


async def test_invoices_with_lines_are_two_queries_for_all_engagements(
    counted: NetSuiteAdapter, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    invoices = await counted.get_invoices_by_engagement(all_keys(firm))
    assert tap.tables() == {"transaction": 1, "transactionline": 1}
    lines = sum(len(invoice.lines) for invoice in invoices)
    assert lines == sum(len(source.lines) for source in firm.invoices)
    # the line query's rows (1703) come in two pages of 1000: three requests, two queries
    assert await control.by_endpoint() == {SUITEQL: 1 + math.ceil(lines / 1000)}
    assert 1 + math.ceil(lines / 1000) == 3


async def test_payments_are_two_queries_for_all_engagements(
    counted: NetSuiteAdapter, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    payments = await counted.get_payments_by_engagement(all_keys(firm))
    assert await control.by_endpoint() == {SUITEQL: 2}
    assert tap.tables() == {"transaction": 1, "transactionline": 1}
    assert sorted(p.external_id or "" for p in payments) == sorted(p.key for p in firm.payments)
    assert all(len(payment.invoice_ids) == 1 for payment in payments)
    ids: dict[str, RecordId] = {c.key: c.id for c in await counted.list_customers()}
    assert {p.external_id: p.customer_id for p in payments} == {
        source.key: ids[source.customer] for source in firm.payments
    }


async def test_ledger_is_one_query_in_one_request_for_all_engagements(
    counted: NetSuiteAdapter, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    ledger = await counted.get_ledger(all_keys(firm))
    assert await control.by_endpoint() == {SUITEQL: 1}
    assert tap.tables() == {"transaction": 1}
    assert "transactionline" not in tap.queries[0]
    assert (len(ledger.invoices), len(ledger.payments)) == (526, 450)  # 976 rows: one page
    assert (len(firm.invoices), len(firm.payments)) == (526, 450)
    assert all(invoice.lines == () for invoice in ledger.invoices)
    assert all(payment.invoice_ids == () for payment in ledger.payments)


async def test_ledger_equals_bare_invoices_and_payments_without_applications(
    counted: NetSuiteAdapter, firm: Firm
) -> None:
    keys = all_keys(firm)
    ledger = await counted.get_ledger(keys)
    assert list(ledger.invoices) == await counted.get_invoices_by_engagement(keys, with_lines=False)
    payments = await counted.get_payments_by_engagement(keys)
    assert list(ledger.payments) == [p.model_copy(update={"invoice_ids": ()}) for p in payments]
    applied = await counted.get_payment_applications([p.id for p in ledger.payments])
    assert applied == {p.id: p.invoice_ids for p in payments}


async def test_ledger_follows_pages_of_one_query(
    make: AdapterFactory, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    adapter = make(transport=tap, page_size=100)
    await adapter.list_legal_entities()
    tap.queries.clear()
    await control.reset_calls()
    ledger = await adapter.get_ledger(all_keys(firm))
    assert len({i.id for i in ledger.invoices} | {p.id for p in ledger.payments}) == 976
    assert tap.tables() == {"transaction": 1}
    assert await control.by_endpoint() == {SUITEQL: math.ceil(976 / 100)}


async def test_payment_applications_of_all_payments_are_one_query_in_one_request(
    counted: NetSuiteAdapter, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    ledger = await counted.get_ledger(all_keys(firm))
    ids = [payment.id for payment in ledger.payments]
    tap.queries.clear()
    await control.reset_calls()
    applied = await counted.get_payment_applications(ids)
    assert await control.by_endpoint() == {SUITEQL: 1}  # 450 application rows: one page
    assert tap.tables() == {"transactionline": 1}
    assert list(applied) == ids
    assert all(len(invoices) == 1 for invoices in applied.values())
    invoice_of = {i.id: i.external_id for i in ledger.invoices}
    payment_of = {p.id: p.external_id for p in ledger.payments}
    assert {payment_of[p]: invoice_of[i] for p, (i,) in applied.items()} == {
        source.key: source.invoice for source in firm.payments
    }


async def test_payment_applications_of_unknown_or_unapplied_ids_are_empty(
    counted: NetSuiteAdapter, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    ledger = await counted.get_ledger(all_keys(firm))
    invoice_id = ledger.invoices[0].id  # a transaction with no applications
    tap.queries.clear()
    await control.reset_calls()
    applied = await counted.get_payment_applications(
        [RecordId("999999"), invoice_id, RecordId("x"), RecordId("999999")]
    )
    assert applied == {RecordId("999999"): (), invoice_id: ()}
    assert await control.by_endpoint() == {SUITEQL: 1}


async def test_billing_schedules_are_two_queries_for_all_engagements(
    counted: NetSuiteAdapter, tap: SuiteQLTap, control: SandboxControl, firm: Firm
) -> None:
    keys = all_keys(firm)
    schedules = await counted.get_billing_schedules_by_engagement(keys)
    assert await control.by_endpoint() == {SUITEQL: 2}
    assert tap.tables() == {"billingschedule": 1, "billingschedulerecurrence": 1}
    sources = [s for s in firm.billing_schedules if s.engagement_key in keys]
    assert sorted(s.engagement_key or "" for s in schedules) == sorted(
        s.engagement_key for s in sources
    )
    assert sum(len(s.lines) for s in schedules) == sum(len(s.lines) for s in sources)


BatchRead = Callable[[NetSuiteAdapter, list[EngagementKey]], Awaitable[object]]


@pytest.mark.parametrize(
    ("read", "per_table"),
    [
        (
            lambda erp, keys: erp.get_invoices_by_engagement(keys, with_lines=False),
            {"transaction": 2},
        ),
        (
            lambda erp, keys: erp.get_invoices_by_engagement(keys),
            {"transaction": 2, "transactionline": 1},
        ),
        (
            lambda erp, keys: erp.get_payments_by_engagement(keys),
            {"transaction": 2, "transactionline": 1},
        ),
        (
            lambda erp, keys: erp.get_billing_schedules_by_engagement(keys),
            {"billingschedule": 2, "billingschedulerecurrence": 1},
        ),
        (lambda erp, keys: erp.get_ledger(keys), {"transaction": 2}),
    ],
    ids=["invoices-without-lines", "invoices", "payments", "billing-schedules", "ledger"],
)
async def test_batch_reads_send_one_query_of_each_kind_per_chunk_of_1000(
    counted: NetSuiteAdapter,
    tap: SuiteQLTap,
    firm: Firm,
    read: BatchRead,
    per_table: dict[str, int],
) -> None:
    keys = all_keys(firm)
    padded = keys + [EngagementKey(f"ENG-NONE-{n:05d}") for n in range(1000)]
    assert math.ceil(len(padded) / 1000) == 2
    found = await read(counted, padded)
    assert tap.tables() == per_table
    tap.queries.clear()
    assert found == await read(counted, keys)
    assert sum(tap.tables().values()) == sum(per_table.values()) - 1  # one header chunk


async def test_payment_applications_send_one_query_per_chunk_of_1000_ids(
    counted: NetSuiteAdapter, tap: SuiteQLTap, firm: Firm
) -> None:
    ids = [payment.id for payment in (await counted.get_ledger(all_keys(firm))).payments]
    padded = ids + [RecordId(str(n)) for n in range(900_001, 901_001)]
    tap.queries.clear()
    found = await counted.get_payment_applications(padded)
    assert tap.tables() == {"transactionline": 2}
    assert {p: i for p, i in found.items() if i} == await counted.get_payment_applications(ids)


async def raw_suiteql(control: SandboxControl, q: str) -> list[dict[str, str]]:
    """A SuiteQL query sent past the adapter, with a token of its own."""
    token = await control.http.post(
        TOKEN.removeprefix("POST "),
        data={
            "grant_type": "client_credentials",
            "client_id": NETSUITE_CLIENT_ID,
            "client_secret": NETSUITE_CLIENT_SECRET,
        },
    )
    response = await control.http.post(
        SUITEQL_PATH,
        headers={"Authorization": f"Bearer {token.json()['access_token']}", "Prefer": "transient"},
        json={"q": q},
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, str]] = response.json()["items"]
    return items


async def test_an_invoice_billed_to_a_project_names_the_projects_customer(
    erp: NetSuiteAdapter, control: SandboxControl, firm: Firm
) -> None:
    command = await _posted_invoice_command(erp, firm)
    project_id, customer_id = command.erp_project_id, command.customer_id
    assert project_id is not None and project_id != customer_id
    on_project = command.model_copy(
        update={
            "customer_id": project_id,
            "external_id": f"{command.external_id}-PRJ",
            "idempotency_key": f"{command.idempotency_key}:project",
        }
    )
    posted = await erp.post_invoice(on_project)
    (row,) = await raw_suiteql(control, f"SELECT entity FROM transaction WHERE id = {posted.id}")
    assert row["entity"] == project_id  # NetSuite holds the project as the invoice's entity
    assert posted.customer_id == customer_id
    await control.reset_calls()
    bare = await erp.get_invoices_by_engagement([command.engagement_key], with_lines=False)
    assert await control.by_endpoint() == {SUITEQL: 1}  # resolved within the header query
    assert {i.customer_id for i in bare} == {customer_id}
    full = await erp.get_invoices_by_engagement([command.engagement_key])
    assert {i.customer_id for i in full} == {customer_id}
    assert posted.id in {i.id for i in full}
    await control.reset_calls()
    ledger = await erp.get_ledger([command.engagement_key])
    assert await control.by_endpoint() == {SUITEQL: 1}  # resolved within the ledger query too
    assert list(ledger.invoices) == bare


# --- writes -------------------------------------------------------------------


async def test_upsert_customer_creates_then_updates_one_record(
    erp: NetSuiteAdapter, control: SandboxControl
) -> None:
    us = next(e for e in await erp.list_legal_entities() if e.code == "US")
    command = CustomerUpsert(
        key=CustomerKey("CUST-9001"),
        name="Zephyr Labs",
        subsidiary_id=us.id,
        email="ap@zephyr.example",
        tax_jurisdiction="US-NY",
    )
    created = await erp.upsert_customer(command)
    assert (created.key, created.name, created.legal_entity, created.currency) == (
        "CUST-9001",
        "Zephyr Labs",
        "US",
        "USD",
    )
    await control.reset_calls()
    updated = await erp.upsert_customer(command.model_copy(update={"name": "Zephyr Lab"}))
    assert updated.id == created.id
    assert updated.name == "Zephyr Lab"
    assert updated.modified_at is not None and created.modified_at is not None
    assert updated.modified_at > created.modified_at
    assert await control.by_endpoint() == {
        "PUT /services/rest/record/v1/customer/eid:CUST-9001": 1,
        SUITEQL: 1,
    }


async def test_vendor_error_body_surfaces_as_upstream_rejected_with_code(
    erp: NetSuiteAdapter,
) -> None:
    command = CustomerUpsert(
        key=CustomerKey("CUST-9002"), name="Bad Ref", subsidiary_id=RecordId("424242")
    )
    with pytest.raises(UpstreamRejected) as caught:
        await erp.upsert_customer(command)
    assert caught.value.system == "netsuite"
    assert caught.value.status == 400
    assert caught.value.vendor_code == "INVALID_VALUE"
    assert caught.value.vendor_message is not None and "subsidiary" in caught.value.vendor_message


async def _project_command(
    erp: NetSuiteAdapter, firm: Firm, key: str = "never-activated"
) -> ErpProjectCreate:
    engagement = next(e for e in firm.engagements if "netsuite" not in e.present_in)
    template = next(e for e in activated(firm) if e.legal_entity == engagement.legal_entity)
    (model,) = await erp.get_erp_projects_by_engagement([EngagementKey(template.key)])
    (customer,) = await erp.get_customers_by_key([CustomerKey(engagement.customer)])
    assert model.subsidiary_id is not None
    return ErpProjectCreate(
        engagement_key=EngagementKey(engagement.key),
        name=engagement.name,
        customer_id=customer.id,
        subsidiary_id=model.subsidiary_id,
        department_id=model.department_id,
        class_id=model.class_id,
        location_id=model.location_id,
        start_date=engagement.start_date,
        end_date=engagement.end_date,
        billing_model=BillingModel(engagement.billing_model),
        rate_card_version=engagement.rate_card_version,
        not_to_exceed=Money(amount=Decimal("125000.50"), currency=engagement.currency),
        idempotency_key=f"{engagement.key}:{key}",
    )


async def test_create_erp_project_reads_back_the_job_with_its_dimensions(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    command = await _project_command(erp, firm)
    project = await erp.create_erp_project(command)
    assert project.id.isdigit()
    assert project.engagement_key == command.engagement_key
    assert (project.customer_id, project.subsidiary_id, project.class_id) == (
        command.customer_id,
        command.subsidiary_id,
        command.class_id,
    )
    assert project.not_to_exceed == command.not_to_exceed
    assert await erp.get_erp_projects_by_engagement([command.engagement_key]) == [project]


async def test_replayed_project_command_creates_nothing(
    erp: NetSuiteAdapter, firm: Firm, control: SandboxControl
) -> None:
    command = await _project_command(erp, firm)
    first = await erp.create_erp_project(command)
    await control.reset_calls()
    again = await erp.create_erp_project(command)
    assert again.id == first.id
    calls = await control.by_endpoint()
    assert calls["POST /services/rest/record/v1/job"] == 1  # the sandbox replayed the key
    assert len(await erp.get_erp_projects_by_engagement([command.engagement_key])) == 1


async def test_project_for_an_engagement_that_has_one_resolves_the_existing_job(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    first = await erp.create_erp_project(await _project_command(erp, firm, "first-attempt"))
    other_key = await _project_command(erp, firm, "second-attempt")  # DUP_RECORD on externalId
    second = await erp.create_erp_project(other_key)
    assert second.id == first.id


async def test_billing_schedule_is_created_with_exact_amounts(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    key = next(
        d.engagement_key
        for d in firm.discrepancies
        if d.kind == "PROJECT_WITHOUT_BILLING_SCHEDULE" and d.engagement_key
    )
    assert await erp.get_billing_schedules_by_engagement([EngagementKey(key)]) == []
    (project,) = await erp.get_erp_projects_by_engagement([EngagementKey(key)])
    currency = next(e.currency for e in firm.engagements if e.key == key)
    lines = tuple(
        BillingScheduleLine(
            date=date(2026, month, 28),
            description=f"Month {month}",
            amount=Money(amount=Decimal("1234.57"), currency=currency),
        )
        for month in (10, 11, 12)
    )
    command = BillingScheduleCreate(
        engagement_key=EngagementKey(key),
        erp_project_id=project.id,
        kind=BillingScheduleKind.RECURRING,
        frequency="MONTHLY",
        lines=lines,
        idempotency_key=f"{key}:billing_schedule",
    )
    created = await erp.create_billing_schedule(command)
    assert (created.kind, created.frequency, created.lines) == (
        BillingScheduleKind.RECURRING,
        "MONTHLY",
        lines,
    )
    assert await erp.get_billing_schedules_by_engagement([EngagementKey(key)]) == [created]
    assert (await erp.create_billing_schedule(command)).id == created.id


def _invoice_command(firm: Firm, customer_id: RecordId, subsidiary_id: RecordId) -> InvoicePost:
    engagement = activated(firm)[0]
    lines = (
        InvoiceLine(
            description="Consulting",
            item="SERVICES",
            quantity=Decimal("115.75"),
            rate=Money(amount=Decimal("155.00"), currency=engagement.currency),
            amount=Money(amount=Decimal("17941.25"), currency=engagement.currency),
            sources=("TE-1", "TE-2"),
        ),
        InvoiceLine(
            description="Travel",
            item="EXPENSE",
            quantity=Decimal(1),
            rate=Money(amount=Decimal("412.35"), currency=engagement.currency),
            amount=Money(amount=Decimal("412.35"), currency=engagement.currency),
        ),
    )
    return InvoicePost(
        external_id=f"INV-{engagement.key}-TEST",
        engagement_key=EngagementKey(engagement.key),
        customer_id=customer_id,
        subsidiary_id=subsidiary_id,
        currency=engagement.currency,
        tran_date=date(2026, 10, 31),
        due_date=date(2026, 11, 30),
        lines=lines,
        memo="October",
        idempotency_key=f"{engagement.key}:invoice:2026-10",
    )


async def _posted_invoice_command(erp: NetSuiteAdapter, firm: Firm) -> InvoicePost:
    engagement = activated(firm)[0]
    (project,) = await erp.get_erp_projects_by_engagement([EngagementKey(engagement.key)])
    assert project.customer_id is not None and project.subsidiary_id is not None
    command = _invoice_command(firm, project.customer_id, project.subsidiary_id)
    return command.model_copy(update={"erp_project_id": project.id})


async def test_post_invoice_sends_exact_amounts_and_reads_back_the_invoice(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    command = await _posted_invoice_command(erp, firm)
    invoice = await erp.post_invoice(command)
    assert invoice.external_id == command.external_id
    assert invoice.total.amount == Decimal("18353.60")
    assert invoice.status is InvoiceStatus.OPEN
    assert [(x.item, x.quantity, x.rate, x.amount, x.sources) for x in invoice.lines] == [
        (x.item, x.quantity, x.rate, x.amount, x.sources) for x in command.lines
    ]
    assert invoice.tran_id is not None
    again = await erp.post_invoice(command)
    assert again.id == invoice.id
    by_engagement = await erp.get_invoices_by_engagement([command.engagement_key])
    assert [i.id for i in by_engagement].count(invoice.id) == 1


async def test_post_invoice_for_an_unknown_project_is_not_found(
    erp: NetSuiteAdapter, firm: Firm
) -> None:
    command = await _posted_invoice_command(erp, firm)
    with pytest.raises(NotFound) as caught:
        await erp.post_invoice(command.model_copy(update={"erp_project_id": RecordId("777777")}))
    assert caught.value.status == 404
    assert caught.value.vendor_code == "NONEXISTENT_ID"


async def test_record_payment_settles_the_invoice(erp: NetSuiteAdapter, firm: Firm) -> None:
    command = await _posted_invoice_command(erp, firm)
    invoice = await erp.post_invoice(command)
    assert invoice.customer_id is not None
    payment = await erp.record_payment(
        PaymentRecord(
            external_id="PAY-TEST-1",
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            tran_date=date(2026, 11, 20),
            amount=invoice.total,
            idempotency_key="pay:test-1",
        )
    )
    assert payment.invoice_ids == (invoice.id,)
    assert payment.engagement_key == command.engagement_key
    assert payment.amount == invoice.total
    (settled,) = await erp.get_invoices([invoice.id])
    assert settled.status is InvoiceStatus.PAID
    assert settled.amount_remaining.amount == 0


async def test_record_payment_for_an_unknown_invoice_is_not_found(
    erp: NetSuiteAdapter,
) -> None:
    with pytest.raises(NotFound):
        await erp.record_payment(
            PaymentRecord(
                external_id="PAY-X",
                customer_id=RecordId("2001"),
                invoice_id=RecordId("1"),
                tran_date=date(2026, 11, 20),
                amount=Money.of("10", "USD"),
                idempotency_key="k",
            )
        )


# --- auth -----------------------------------------------------------------------


async def test_wrong_client_secret_is_auth_failed(make: AdapterFactory) -> None:
    adapter = make(secret="wrong")
    with pytest.raises(AuthFailed) as caught:
        await adapter.list_legal_entities()
    assert caught.value.vendor_code == "invalid_client"
    assert breaker(adapter) is BreakerState.CLOSED


class AuthTap(httpx.AsyncBaseTransport):
    """Passes requests through and remembers the last bearer token sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.token: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            self.token = auth.removeprefix("Bearer ")
        return await self.inner.handle_async_request(request)


async def test_a_revoked_token_is_replaced_once_transparently(
    make: AdapterFactory, app: Starlette, control: SandboxControl
) -> None:
    tap = AuthTap(httpx.ASGITransport(app=app))
    adapter = make(transport=tap)
    await adapter.list_legal_entities()
    assert tap.token is not None
    revoked = await control.http.post(
        "/services/rest/auth/oauth2/v1/revoke",
        data={
            "token": tap.token,
            "client_id": NETSUITE_CLIENT_ID,
            "client_secret": NETSUITE_CLIENT_SECRET,
        },
    )
    assert revoked.status_code == 200
    first_token = tap.token
    await control.reset_calls()
    assert len(await adapter.get_customers_by_key([CustomerKey("CUST-0001")])) == 1
    assert await control.by_endpoint() == {SUITEQL: 2, TOKEN: 1}  # 401, new token, retry
    assert tap.token != first_token


async def test_token_is_renewed_before_it_expires(
    erp: NetSuiteAdapter, control: SandboxControl, clock: FakeClock
) -> None:
    await control.reset_calls()
    await erp.get_customers_by_key([CustomerKey("CUST-0001")])
    assert TOKEN not in await control.by_endpoint()
    clock.now += 3600 - 30
    await erp.get_customers_by_key([CustomerKey("CUST-0001")])
    assert (await control.by_endpoint())[TOKEN] == 1


# --- resilience -------------------------------------------------------------------


async def test_throttling_is_retried_with_jittered_backoff_then_surfaces(
    erp: NetSuiteAdapter, control: SandboxControl, sleeps: RecordedSleeps
) -> None:
    await control.faults(rate_limit_rate=1)
    await control.reset_calls()
    with pytest.raises(UpstreamUnavailable) as caught:
        await erp.get_customers_by_key([CustomerKey("CUST-0001")])
    assert caught.value.status == 429
    assert caught.value.vendor_code == "CONCURRENCY_LIMIT_EXCEEDED"
    assert await control.by_endpoint() == {SUITEQL: FAST.max_attempts}
    assert len(sleeps.delays) == FAST.max_attempts - 1
    assert all(0 <= d <= FAST.backoff_max_s for d in sleeps.delays)


class RetryAfterProxy(httpx.AsyncBaseTransport):
    """A proxy in front of NetSuite that adds ``Retry-After`` to its 429 answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport, seconds: str) -> None:
        self.inner = inner
        self.seconds = seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            response.headers["Retry-After"] = self.seconds
        return response


async def test_retry_after_is_honoured_when_present(
    make: AdapterFactory, app: Starlette, sleeps: RecordedSleeps, control: SandboxControl
) -> None:
    adapter = make(transport=RetryAfterProxy(httpx.ASGITransport(app=app), "3"))
    await adapter.list_legal_entities()
    await control.faults(rate_limit_rate=1)
    sleeps.hook = lambda: control.faults(rate_limit_rate=0)
    customers = await adapter.get_customers_by_key([CustomerKey("CUST-0001")])
    assert len(customers) == 1
    assert sleeps.delays == [3.0]


async def test_server_errors_are_retried_then_surface_as_unavailable(
    erp: NetSuiteAdapter, control: SandboxControl
) -> None:
    await control.faults(error_rate=1)
    await control.reset_calls()
    with pytest.raises(UpstreamUnavailable) as caught:
        await erp.get_invoices([RecordId("90001")])
    assert caught.value.status in (500, 503)
    assert await control.by_endpoint() == {SUITEQL: FAST.max_attempts}


async def test_one_server_error_then_success(
    erp: NetSuiteAdapter, control: SandboxControl, sleeps: RecordedSleeps
) -> None:
    await control.faults(error_rate=1)
    sleeps.hook = lambda: control.faults(error_rate=0)
    await control.reset_calls()
    assert len(await erp.get_invoices([RecordId("90001")])) == 1
    assert await control.by_endpoint() == {SUITEQL: 3}  # failed header query, header, lines
    assert len(sleeps.delays) == 1


async def test_idempotent_create_is_retried_after_a_server_error_without_duplicates(
    erp: NetSuiteAdapter, control: SandboxControl, sleeps: RecordedSleeps, firm: Firm
) -> None:
    command = await _project_command(erp, firm)
    await control.faults(error_rate=1)
    sleeps.hook = lambda: control.faults(error_rate=0)
    await control.reset_calls()
    project = await erp.create_erp_project(command)
    assert (await control.by_endpoint())["POST /services/rest/record/v1/job"] == 2
    assert await erp.get_erp_projects_by_engagement([command.engagement_key]) == [project]


async def test_a_failed_token_request_is_not_retried(
    make: AdapterFactory, sleeps: RecordedSleeps, control: SandboxControl
) -> None:
    adapter = make()
    await control.faults(error_rate=1)
    with pytest.raises(UpstreamUnavailable):
        await adapter.list_legal_entities()
    assert await control.by_endpoint() == {TOKEN: 1}  # a POST without idempotency: one try
    assert sleeps.delays == []
    await control.faults(error_rate=0)
    assert len(await adapter.list_legal_entities()) == 3


async def test_breaker_opens_after_failures_and_refuses_without_calling(
    make: AdapterFactory, clock: FakeClock, control: SandboxControl
) -> None:
    policy = ResiliencePolicy(
        max_attempts=1,
        backoff_base_s=0.001,
        breaker_failure_threshold=3,
        breaker_reset_timeout_s=10.0,
    )
    adapter = make(policy=policy)
    await adapter.list_legal_entities()
    await control.faults(error_rate=1)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            await adapter.get_customers_by_key([CustomerKey("CUST-0001")])
    assert breaker(adapter) is BreakerState.OPEN
    before = await control.calls()
    with pytest.raises(CircuitOpen):
        await adapter.get_customers_by_key([CustomerKey("CUST-0001")])
    assert await control.calls() == before
    health = await adapter.health()
    assert (health.ok, health.breaker) == (False, BreakerState.OPEN)
    assert await control.calls() == before

    await control.faults(error_rate=0)
    clock.now += 10.0
    assert breaker(adapter) is BreakerState.HALF_OPEN
    assert len(await adapter.get_customers_by_key([CustomerKey("CUST-0001")])) == 1
    assert breaker(adapter) is BreakerState.CLOSED


async def test_health_is_ok_with_latency_when_the_sandbox_answers(erp: NetSuiteAdapter) -> None:
    health = await erp.health()
    assert health.system == "netsuite"
    assert health.ok is True
    assert health.latency_ms is not None and health.latency_ms >= 0
