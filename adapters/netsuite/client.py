"""The NetSuite adapter: the ERP port over REST Web Services (record v1 + SuiteQL).

Reads are SuiteQL (``POST /query/v1/suiteql``, ``Prefer: transient``, read
only and so retried like a GET): ids and keys go into ``IN`` lists of at most
1000 values (a chunk), pages of up to 1000 rows are followed through
``rel=next`` while ``hasMore``. For n ids or keys a batch read sends at most
ceil(n/1000) queries of each kind, each taking one request per 1000 rows:

* `list_customers`: one query, every customer (duplicates and inactive too).
* customers, customers by key, projects: one query per chunk.
* invoices (by id or engagement): one header query per chunk, then one line
  query per 1000 invoices found; ``with_lines=False`` sends the header
  queries only.
* payments: header queries, then one application query per 1000 found.
* `get_ledger`: invoice and payment headers together, one query per chunk
  of keys (``type IN ('CustInvc', 'CustPymt')``), with no lines and no
  applications; `get_payment_applications`: one application query per
  chunk of payment ids. The seed's 117 engagements have 526 invoices and
  450 payments: 976 rows, so the ledger is one query and one request, and
  the applications of its 450 payments one more.
* billing schedules: header queries, then one recurrence query per 1000 found.

A transaction's ``entity`` may be a project (``job``) rather than the
customer; the header and ledger queries resolve it to the customer itself (a
correlated sub-select of the job's parent), so this costs no extra query. Reference
data (currency codes, subsidiaries; items for posting) is read once (two
queries) and cached; `list_legal_entities` refreshes it.

Writes go to the record service: ``PUT customer/eid:{key}`` (idempotent
upsert), and ``POST`` for jobs, billing schedules, invoices and payments
carrying ``externalId`` plus ``X-NetSuite-Idempotency-Key`` (a UUIDv5 of the
command's key), so they may be retried. Creates answer 204 with the new id
in ``Location``; a duplicate ``externalId`` means an earlier attempt landed,
so the existing record is resolved instead of failing. Every write is read
back through SuiteQL and returned as a canonical model. The HTTP mechanics
live in `adapters.netsuite.session`; vendor shapes in `adapters.netsuite.mapping`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import httpx

from adapters.http import VendorClient
from adapters.netsuite import dimensions, mapping, queries
from adapters.netsuite.auth import ClientCredentials
from adapters.netsuite.changes import PaymentFeed
from adapters.netsuite.errors import SYSTEM, is_throttled, translate_error
from adapters.netsuite.mapping import Reference, Row
from adapters.netsuite.session import MAX_PAGE, RECORD_ROOT, Session
from adapters.resilience import CircuitBreaker, ResiliencePolicy
from domain.commands import (
    BillingScheduleCreate,
    CustomerUpsert,
    ErpProjectCreate,
    InvoicePost,
    PaymentRecord,
)
from domain.errors import InvalidInput, MappingFailed
from domain.health import BreakerState, SystemHealth
from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import (
    BillingSchedule,
    Customer,
    ErpProject,
    Invoice,
    InvoiceLine,
    Ledger,
    LegalEntity,
    Payment,
)
from domain.outcomes import Dimensions
from domain.ports import ERP
from domain.sync import AppliedPayment

__all__ = ["NetSuiteAdapter"]


def _group(rows: Sequence[Row], column: str) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[column]].append(row)
    return grouped


class NetSuiteAdapter:
    """ERP port implementation for NetSuite."""

    name = "netsuite"

    def __init__(
        self,
        *,
        base_url: str,
        account_id: str,
        client_id: str,
        client_secret: str,
        policy: ResiliencePolicy,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        breaker: CircuitBreaker | None = None,
        page_size: int = MAX_PAGE,
    ) -> None:
        self.account_id = account_id
        self.breaker = breaker or CircuitBreaker.from_policy(policy, clock)
        self._http = VendorClient(
            system=SYSTEM,
            base_url=base_url.rstrip("/"),
            policy=policy,
            translate=translate_error,
            credentials=ClientCredentials(
                client_id=client_id, client_secret=client_secret, breaker=self.breaker, clock=clock
            ),
            transport=transport,
            is_throttled=is_throttled,
            sleep=sleep,
            rng=rng,
            breaker=self.breaker,
        )
        self._session = Session(self._http, page_size=page_size)
        self._payment_feed = PaymentFeed(self._session, self._reference_data)
        self._reference: Reference | None = None
        self._reference_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def breaker_state(self) -> BreakerState:
        return self._http.breaker_state

    async def health(self) -> SystemHealth:
        return await self._http.probe("GET", f"{RECORD_ROOT}/subsidiary", params={"limit": 1})

    async def _reference_data(self, *, refresh: bool = False, items: bool = False) -> Reference:
        async with self._reference_lock:
            reference = self._reference
            if reference is None or refresh:
                subsidiaries = await self._session.query(queries.SUBSIDIARIES)
                currencies = await self._session.query(queries.CURRENCIES)
                fresh = mapping.legal_entities(subsidiaries, currencies)
                fresh.items = reference.items if reference is not None else {}
                reference = self._reference = fresh
            if items and not reference.items:
                rows = await self._session.query(queries.ITEMS)
                reference.items = {row["itemid"]: row["id"] for row in rows}
            return reference

    @staticmethod
    def _one(items: Sequence[Any], what: str, record_id: str) -> Any:
        if not items:
            raise MappingFailed(
                f"{what} {record_id} was written but cannot be read back", system=SYSTEM
            )
        return items[0]

    # --- legal entities and customers -------------------------------------------

    async def list_legal_entities(self) -> list[LegalEntity]:
        reference = await self._reference_data(refresh=True)
        return list(reference.subsidiaries.values())

    async def list_dimensions(self) -> Dimensions:
        """Departments, classes and locations by code (three SuiteQL reads, not cached)."""
        rows = [
            await self._session.query(q)
            for q in (dimensions.DEPARTMENTS, dimensions.CLASSES, dimensions.LOCATIONS)
        ]
        return dimensions.dimensions_from(*rows)

    async def get_customers(self, ids: Sequence[RecordId]) -> list[Customer]:
        if not queries.valid_ids(ids):
            return []
        reference = await self._reference_data()
        rows = await self._session.query_ids(queries.customers, "id", ids)
        return [mapping.customer(row, reference) for row in rows]

    async def list_customers(self) -> list[Customer]:
        reference = await self._reference_data()
        rows = await self._session.query(queries.ALL_CUSTOMERS)
        return [mapping.customer(row, reference) for row in rows]

    async def get_customers_by_key(self, keys: Sequence[CustomerKey]) -> list[Customer]:
        if not keys:
            return []
        reference = await self._reference_data()
        rows = await self._session.query_texts(queries.customers, "externalid", keys)
        return [mapping.customer(row, reference) for row in rows]

    async def upsert_customer(self, command: CustomerUpsert) -> Customer:
        await self._session.upsert("customer", command.key, mapping.customer_upsert_body(command))
        found = await self.get_customers_by_key([command.key])
        return self._one(found, "customer", command.key)  # type: ignore[no-any-return]

    # --- projects and billing schedules ------------------------------------------

    async def get_erp_projects_by_engagement(
        self, keys: Sequence[EngagementKey]
    ) -> list[ErpProject]:
        if not keys:
            return []
        reference = await self._reference_data()
        rows = await self._session.query_texts(queries.jobs, "externalid", keys)
        return [mapping.erp_project(row, reference) for row in rows]

    async def create_erp_project(self, command: ErpProjectCreate) -> ErpProject:
        reference = await self._reference_data()
        body = mapping.job_body(command)
        job_id = await self._session.create("job", body, command.idempotency_key, table="job")
        rows = await self._session.query(queries.jobs(f"id = {job_id}"))
        return mapping.erp_project(self._one(rows, "job", job_id), reference)

    async def _schedules(self, headers: list[Row]) -> list[BillingSchedule]:
        reference = await self._reference_data()
        lines = _group(
            await self._session.query_ids(
                queries.recurrences, "billingschedule", [row["id"] for row in headers]
            ),
            "billingschedule",
        )
        return [mapping.billing_schedule(r, lines.get(r["id"], []), reference) for r in headers]

    async def create_billing_schedule(self, command: BillingScheduleCreate) -> BillingSchedule:
        body = mapping.billing_schedule_body(command)
        schedule_id = await self._session.create(
            "billingSchedule", body, command.idempotency_key, table="billingschedule"
        )
        headers = await self._session.query(queries.billing_schedules(f"id = {schedule_id}"))
        schedules = await self._schedules(headers)
        return self._one(schedules, "billing schedule", schedule_id)  # type: ignore[no-any-return]

    async def get_billing_schedules_by_engagement(
        self, keys: Sequence[EngagementKey]
    ) -> list[BillingSchedule]:
        if not keys:
            return []
        headers = await self._session.query_texts(
            queries.billing_schedules, "custrecord_eg_engagement_key", keys
        )
        return await self._schedules(headers)

    # --- invoices and payments -----------------------------------------------------

    async def _invoices(self, headers: list[Row], *, with_lines: bool = True) -> list[Invoice]:
        reference = await self._reference_data()
        lines: dict[str, list[Row]] = {}
        if with_lines:
            ids = [row["id"] for row in headers]
            lines = _group(
                await self._session.query_ids(queries.invoice_lines, "transaction", ids),
                "transaction",
            )
        return [mapping.invoice(row, lines.get(row["id"], []), reference) for row in headers]

    async def get_invoice_lines(
        self, invoices: Sequence[tuple[RecordId, str]]
    ) -> dict[RecordId, tuple[InvoiceLine, ...]]:
        """Lines of (invoice id, currency) pairs: one transactionline query (and its pages)."""
        wanted = [(i, c) for i, c in invoices if queries.valid_ids([i])]
        if not wanted:
            return {}
        rows = _group(
            await self._session.query_ids(
                queries.invoice_lines, "transaction", [i for i, _ in wanted]
            ),
            "transaction",
        )
        return {
            i: tuple(mapping.invoice_line(row, currency) for row in rows.get(i, []))
            for i, currency in wanted
        }

    async def get_invoices(self, ids: Sequence[RecordId]) -> list[Invoice]:
        if not queries.valid_ids(ids):
            return []
        return await self._invoices(await self._session.query_ids(queries.invoices, "id", ids))

    async def get_invoices_by_engagement(
        self, keys: Sequence[EngagementKey], *, with_lines: bool = True
    ) -> list[Invoice]:
        if not keys:
            return []
        headers = await self._session.query_texts(
            queries.invoices, "custbody_eg_engagement_key", keys
        )
        return await self._invoices(headers, with_lines=with_lines)

    async def post_invoice(self, command: InvoicePost) -> Invoice:
        reference = await self._reference_data(items=True)
        currency_id = reference.currency_id(command.currency)
        if currency_id is None:
            raise InvalidInput(f"NetSuite has no currency {command.currency}")
        missing = sorted({line.item for line in command.lines} - set(reference.items))
        if missing:
            raise InvalidInput(f"NetSuite has no item named {', '.join(missing)}")
        project: dict[str, Any] = {}
        if command.erp_project_id is not None:
            project = await self._session.record("job", command.erp_project_id, mapping.DIMENSIONS)
        body = mapping.invoice_body(
            command, currency_id=currency_id, items=reference.items, project=project
        )
        invoice_id = await self._session.create(
            "invoice", body, command.idempotency_key, table="transaction", type_filter="CustInvc"
        )
        found = await self.get_invoices([RecordId(invoice_id)])
        return self._one(found, "invoice", invoice_id)  # type: ignore[no-any-return]

    async def _payments(self, headers: list[Row]) -> list[Payment]:
        reference = await self._reference_data()
        applied = await self._applications([row["id"] for row in headers])
        return [mapping.payment(row, reference, applied.get(row["id"], ())) for row in headers]

    async def _applications(self, ids: Sequence[str]) -> dict[RecordId, tuple[RecordId, ...]]:
        rows = await self._session.query_ids(queries.payment_applications, "transaction", ids)
        return mapping.applications(rows)

    async def get_ledger(self, keys: Sequence[EngagementKey]) -> Ledger:
        """Invoice headers and payments (without applications): one query per 1000 keys."""
        if not keys:
            return Ledger()
        reference = await self._reference_data()
        rows = await self._session.query_texts(queries.ledger, "custbody_eg_engagement_key", keys)
        return mapping.ledger(rows, reference)

    async def get_payment_applications(
        self, payment_ids: Sequence[RecordId]
    ) -> dict[RecordId, tuple[RecordId, ...]]:
        """Every valid id asked maps to its invoices (``()`` when none); one query per 1000."""
        ids = queries.valid_ids(payment_ids)
        if not ids:
            return {}
        applied = await self._applications(ids)
        return {RecordId(i): applied.get(RecordId(i), ()) for i in ids}

    async def get_payments_by_engagement(self, keys: Sequence[EngagementKey]) -> list[Payment]:
        if not keys:
            return []
        headers = await self._session.query_texts(
            queries.payments, "custbody_eg_engagement_key", keys
        )
        return await self._payments(headers)

    async def payments_changed_since(self, since: datetime | None) -> list[AppliedPayment]:
        """Customer payments modified after `since`, oldest first (`adapters.netsuite.changes`)."""
        return await self._payment_feed.changed_since(since)

    async def get_applied_payments(self, ids: Sequence[RecordId]) -> list[AppliedPayment]:
        return await self._payment_feed.by_id(ids)

    async def payments_applied_to(self, invoice_ids: Sequence[RecordId]) -> list[AppliedPayment]:
        return await self._payment_feed.applied_to(invoice_ids)

    async def record_payment(self, command: PaymentRecord) -> Payment:
        reference = await self._reference_data()
        currency_id = reference.currency_id(command.amount.currency)
        if currency_id is None:
            raise InvalidInput(f"NetSuite has no currency {command.amount.currency}")
        invoice = await self._session.record("invoice", command.invoice_id, mapping.PAYMENT_SOURCES)
        body = mapping.payment_body(command, currency_id=currency_id, invoice=invoice)
        payment_id = await self._session.create(
            "customerPayment",
            body,
            command.idempotency_key,
            table="transaction",
            type_filter="CustPymt",
        )
        headers = await self._session.query(queries.payments(f"id = {payment_id}"))
        payments = await self._payments(headers)
        return self._one(payments, "payment", payment_id)  # type: ignore[no-any-return]


_check: type[ERP] = NetSuiteAdapter
