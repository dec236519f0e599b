"""Per-request DataLoaders: one call per system per kind of key per query level.

Each loader batches the keys asked for in one tick of the event loop into one
port call (which the adapter turns into a handful of vendor calls at most),
and caches results for the rest of the request. A batch that fails delivers
the same error to every key of the batch, so each field can fail alone.

`naive=True` is the baseline the benchmarks compare against: no batching (one
call per key) and no concurrency (one backend call at a time per request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader

from domain.errors import DomainError
from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import (
    Assignment,
    BillingSchedule,
    Customer,
    Expense,
    Invoice,
    InvoiceLine,
    Ledger,
    Milestone,
    Opportunity,
    Payment,
    Project,
    TimeEntry,
    UninvoicedWork,
)
from workflows.systems import Systems

__all__ = ["EngagementLedger", "Loaders", "PaymentApplications", "TimeWindow"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Q = TypeVar("Q", bound=Hashable)


def _typed(batch: Callable[[list[Any]], Awaitable[list[Any]]]) -> Any:
    """aiodataloader's types do not admit exceptions in place of values; it does."""
    return batch


class _Gate:
    """Serialises backend calls in naive mode; a no-op otherwise."""

    def __init__(self, naive: bool) -> None:
        self._lock = asyncio.Lock() if naive else None

    async def run(self, call: Awaitable[V]) -> V:
        if self._lock is None:
            return await call
        async with self._lock:
            return await call


class One(Generic[K, V]):
    """Loads at most one record per key; a key nobody has yields None."""

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Sequence[V]]],
        key_of: Callable[[V], K | None],
        gate: _Gate,
        batch_size: int | None,
    ) -> None:
        async def batch(keys: list[K]) -> list[V | Exception | None]:
            try:
                found = await gate.run(fetch(list(keys)))
            except DomainError as exc:
                return [exc] * len(keys)
            index: dict[K, V] = {}
            for record in found:
                k = key_of(record)
                if k is not None:
                    index.setdefault(k, record)
            return [index.get(k) for k in keys]

        self._loader: DataLoader[K, V | None] = DataLoader(_typed(batch), max_batch_size=batch_size)

    async def load(self, key: K) -> V | None:
        return await self._loader.load(key)

    def prime(self, key: K, value: V | None) -> None:
        """Seed the cache: `None` records that nobody has this key."""
        self._loader.prime(key, value)


class Many(Generic[K, V]):
    """Loads every record belonging to each key (e.g. an engagement's invoices)."""

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Sequence[V]]],
        key_of: Callable[[V], K | None],
        gate: _Gate,
        batch_size: int | None,
    ) -> None:
        async def batch(keys: list[K]) -> list[list[V] | Exception]:
            try:
                found = await gate.run(fetch(list(keys)))
            except DomainError as exc:
                return [exc] * len(keys)
            groups: dict[K, list[V]] = {k: [] for k in keys}
            for record in found:
                k = key_of(record)
                if k is not None and k in groups:
                    groups[k].append(record)
            return [groups[k] for k in keys]

        self._loader: DataLoader[K, list[V]] = DataLoader(_typed(batch), max_batch_size=batch_size)

    async def load(self, key: K) -> list[V]:
        return await self._loader.load(key)


class ManyBy(Generic[K, Q, V]):
    """`Many`, where each load also names a query (e.g. a date window).

    Loads with the same query are batched together; different queries in the
    same tick make one call each.
    """

    def __init__(
        self,
        fetch: Callable[[list[K], Q], Awaitable[Sequence[V]]],
        key_of: Callable[[V], K | None],
        gate: _Gate,
        batch_size: int | None,
    ) -> None:
        async def batch(pairs: list[tuple[K, Q]]) -> list[list[V] | Exception]:
            by_query: dict[Q, list[K]] = {}
            for k, q in pairs:
                by_query.setdefault(q, []).append(k)

            async def one_query(q: Q, keys: list[K]) -> dict[tuple[K, Q], list[V] | Exception]:
                try:
                    found = await gate.run(fetch(keys, q))
                except DomainError as exc:
                    return {(k, q): exc for k in keys}
                groups: dict[tuple[K, Q], list[V] | Exception] = {(k, q): [] for k in keys}
                for record in found:
                    k = key_of(record)
                    bucket = groups.get((k, q)) if k is not None else None
                    if isinstance(bucket, list):
                        bucket.append(record)
                return groups

            results: dict[tuple[K, Q], list[V] | Exception] = {}
            for part in await asyncio.gather(*(one_query(q, ks) for q, ks in by_query.items())):
                results.update(part)
            return [results[p] for p in pairs]

        self._loader: DataLoader[tuple[K, Q], list[V]] = DataLoader(
            _typed(batch), max_batch_size=batch_size
        )

    async def load(self, key: K, query: Q) -> list[V]:
        return await self._loader.load((key, query))


class Lines:
    """Invoice lines by (invoice id, currency), read without the headers again."""

    def __init__(
        self,
        fetch: Callable[
            [list[tuple[RecordId, str]]], Awaitable[dict[RecordId, tuple[InvoiceLine, ...]]]
        ],
        gate: _Gate,
        batch_size: int | None,
    ) -> None:
        async def batch(
            keys: list[tuple[RecordId, str]],
        ) -> list[tuple[InvoiceLine, ...] | Exception]:
            try:
                found = await gate.run(fetch(list(keys)))
            except DomainError as exc:
                return [exc] * len(keys)
            return [found.get(invoice_id, ()) for invoice_id, _ in keys]

        self._loader: DataLoader[tuple[RecordId, str], tuple[InvoiceLine, ...]] = DataLoader(
            _typed(batch), max_batch_size=batch_size
        )

    async def load(self, invoice_id: RecordId, currency: str) -> tuple[InvoiceLine, ...]:
        return await self._loader.load((invoice_id, currency))


@dataclass(frozen=True, slots=True)
class EngagementLedger:
    """One engagement's slice of a ledger read."""

    key: EngagementKey
    invoices: tuple[Invoice, ...]
    payments: tuple[Payment, ...]


async def _split_ledger(read: Awaitable[Ledger]) -> list[EngagementLedger]:
    ledger = await read
    invoices: dict[EngagementKey, list[Invoice]] = {}
    payments: dict[EngagementKey, list[Payment]] = {}
    for invoice in ledger.invoices:
        if invoice.engagement_key:
            invoices.setdefault(invoice.engagement_key, []).append(invoice)
    for payment in ledger.payments:
        if payment.engagement_key:
            payments.setdefault(payment.engagement_key, []).append(payment)
    return [
        EngagementLedger(k, tuple(invoices.get(k, ())), tuple(payments.get(k, ())))
        for k in invoices.keys() | payments.keys()
    ]


@dataclass(frozen=True, slots=True)
class PaymentApplications:
    payment_id: RecordId
    invoice_ids: tuple[RecordId, ...]


async def _applications(
    read: Awaitable[dict[RecordId, tuple[RecordId, ...]]],
) -> list[PaymentApplications]:
    return [PaymentApplications(p, ids) for p, ids in (await read).items()]


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A date window (and billed flag) pushed down to the time-tracking system."""

    date_from: date | None = None
    date_to: date | None = None
    billed: bool | None = None


def _engagement(record: Opportunity | Project | Assignment | Milestone) -> EngagementKey | None:
    return record.engagement_key


class Loaders:
    """The loaders of one request."""

    def __init__(self, systems: Systems, *, naive: bool = False) -> None:
        gate = _Gate(naive)
        size = 1 if naive else None
        crm, psa, erp, tt = systems.crm, systems.psa, systems.erp, systems.time

        self.opportunity_by_key: One[EngagementKey, Opportunity] = One(
            crm.get_opportunities_by_engagement, _engagement, gate, size
        )
        self.opportunity_by_id: One[RecordId, Opportunity] = One(
            crm.get_opportunities, lambda o: o.id, gate, size
        )
        self.project_by_key: One[EngagementKey, Project] = One(
            psa.get_projects_by_engagement, _engagement, gate, size
        )
        self.project_by_id: One[RecordId, Project] = One(
            psa.get_projects, lambda p: p.id, gate, size
        )
        self.customer_by_key: One[CustomerKey, Customer] = One(
            erp.get_customers_by_key, lambda c: c.key, gate, size
        )
        self.assignments: Many[EngagementKey, Assignment] = Many(
            psa.get_assignments, _engagement, gate, size
        )
        self.milestones: Many[EngagementKey, Milestone] = Many(
            psa.get_milestones, _engagement, gate, size
        )
        self.ledger: One[EngagementKey, EngagementLedger] = One(
            lambda keys: _split_ledger(erp.get_ledger(keys)), lambda e: e.key, gate, size
        )
        self.invoice_lines: Lines = Lines(erp.get_invoice_lines, gate, size)
        self.invoice_by_id: One[RecordId, Invoice] = One(
            erp.get_invoices, lambda i: i.id, gate, size
        )
        self.applications: One[RecordId, PaymentApplications] = One(
            lambda ids: _applications(erp.get_payment_applications(ids)),
            lambda a: a.payment_id,
            gate,
            size,
        )
        self.schedules: Many[EngagementKey, BillingSchedule] = Many(
            erp.get_billing_schedules_by_engagement, lambda s: s.engagement_key, gate, size
        )
        self.uninvoiced: One[EngagementKey, UninvoicedWork] = One(
            tt.get_uninvoiced, lambda u: u.engagement_key, gate, size
        )
        self.time_entries: ManyBy[EngagementKey, TimeWindow, TimeEntry] = ManyBy(
            lambda keys, w: tt.get_time_entries_by_engagement(
                keys, date_from=w.date_from, date_to=w.date_to, billed=w.billed
            ),
            lambda t: t.engagement_key,
            gate,
            size,
        )
        self.expenses: ManyBy[EngagementKey, TimeWindow, Expense] = ManyBy(
            lambda keys, w: tt.get_expenses_by_engagement(
                keys, date_from=w.date_from, date_to=w.date_to
            ),
            lambda e: e.engagement_key,
            gate,
            size,
        )
