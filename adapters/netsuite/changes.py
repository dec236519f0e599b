"""Customer payments changed since a watermark, with where each was applied (inbound sync).

The poll is SuiteQL on ``lastmodifieddate`` (vendor-apis §4, "Change feed / polling"):
``type = 'CustPymt' AND lastmodifieddate > TO_DATE(<since>)`` ordered by
``lastmodifieddate, id``. It pages by key, not by offset: a payment modified while
the pages are read moves to the end of the order, so offset pages would skip the
row that slides into its place; instead each page is a fresh query from one second
before the last stamp read (stamps are to the second, so ties at the edge are read
again, and deduplicated by id). A page entirely inside one second (over 1000
payments modified in it) is read on by offset.

For the payments found, one query reads their applications (``transactionline``
rows with ``appliedtotransaction`` and the amount applied) and one the applied
invoices' engagement keys; the payment's currency prices the amounts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from adapters.netsuite import mapping, queries
from adapters.netsuite.errors import SYSTEM
from adapters.netsuite.mapping import Reference, Row
from adapters.netsuite.session import Session
from domain.errors import MappingFailed
from domain.ids import EngagementKey, RecordId
from domain.money import Money
from domain.sync import AppliedPayment, PaymentApplication

__all__ = ["PaymentFeed"]

_FORMAT = "YYYY-MM-DD HH24:MI:SS"


def _after(since: datetime) -> str:
    stamp = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"lastmodifieddate > TO_DATE({queries.quote(stamp)}, {queries.quote(_FORMAT)})"


def _changed(since: datetime | None) -> str:
    return queries.payments_by_modification(_after(since) if since is not None else "1 = 1")


def _applications(condition: str) -> str:
    return (
        "SELECT transaction, linesequencenumber, appliedtotransaction, foreignamount "
        "FROM transactionline WHERE mainline = 'F' AND appliedtotransaction IS NOT NULL "
        f"AND ({condition}) ORDER BY transaction, linesequencenumber"
    )


def _invoice_keys(condition: str) -> str:
    return (
        "SELECT id, custbody_eg_engagement_key FROM transaction "
        f"WHERE type = {queries.quote(queries.INVOICE)} AND ({condition}) ORDER BY id"
    )


class PaymentFeed:
    def __init__(self, session: Session, reference: Callable[[], Awaitable[Reference]]) -> None:
        self._session = session
        self._reference = reference

    async def changed_since(self, since: datetime | None) -> list[AppliedPayment]:
        rows: dict[str, Row] = {}
        cursor = since
        while True:
            query = _changed(cursor)
            page, more = await self._session.first_page(query)
            rows.update((row["id"], row) for row in page)
            if not more:
                break
            last = mapping.parse_timestamp(page[-1].get("modified"))
            step = last - timedelta(seconds=1) if last is not None else None
            if step is None or (cursor is not None and step <= cursor):
                rows.update((row["id"], row) for row in await self._session.query(query))
                break
            cursor = step
        ordered = sorted(rows.values(), key=lambda r: (r.get("modified") or "", int(r["id"])))
        return await self._applied(ordered)

    async def by_id(self, ids: Sequence[RecordId]) -> list[AppliedPayment]:
        headers = await self._session.query_ids(queries.payments, "id", ids)
        return await self._applied(headers)

    async def applied_to(self, invoice_ids: Sequence[RecordId]) -> list[AppliedPayment]:
        lines = await self._session.query_ids(_applications, "appliedtotransaction", invoice_ids)
        return await self.by_id(list(dict.fromkeys(RecordId(r["transaction"]) for r in lines)))

    async def _applied(self, headers: Sequence[Row]) -> list[AppliedPayment]:
        if not headers:
            return []
        reference = await self._reference()
        lines = await self._session.query_ids(
            _applications, "transaction", [row["id"] for row in headers]
        )
        invoices = {line["appliedtotransaction"] for line in lines}
        keyed = await self._session.query_ids(_invoice_keys, "id", sorted(invoices))
        keys = {row["id"]: row.get("custbody_eg_engagement_key") for row in keyed}
        found: list[AppliedPayment] = []
        for header in headers:
            payment = mapping.payment(header, reference)
            modified = mapping.parse_timestamp(header.get("modified"))
            if modified is None:
                raise MappingFailed(f"payment {payment.id} has no lastmodifieddate", system=SYSTEM)
            currency = payment.amount.currency
            applications = tuple(
                PaymentApplication(
                    invoice_id=RecordId(line["appliedtotransaction"]),
                    engagement_key=_key(keys.get(line["appliedtotransaction"])),
                    amount=Money(amount=Decimal(line["foreignamount"]), currency=currency),
                )
                for line in lines
                if line["transaction"] == header["id"]
            )
            found.append(
                AppliedPayment(
                    id=payment.id,
                    customer_id=payment.customer_id,
                    modified_at=modified,
                    applications=applications,
                )
            )
        return found


def _key(value: str | None) -> EngagementKey | None:
    return EngagementKey(value) if value else None
