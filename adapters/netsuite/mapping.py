"""NetSuite JSON ↔ canonical models and commands. Vendor field names stop here.

Reads come from SuiteQL rows (lowercase keys, string values, null columns
absent, dates ``D/M/YYYY``, booleans ``T``/``F``); writes are record-service
bodies (camelCase, references ``{"id": "5"}``, amounts as Decimal numbers).
Transactions name their customer in ``customer`` (the customer even when
``entity`` is one of its projects). Codes: invoice status ``A`` open
(partially paid when ``amountRemaining`` is below the total), ``B`` paid in
full; billing schedule types ``TM``/``FBI``/``FBM``/``STD`` ↔
PERIODIC/FIXED/MILESTONE/RECURRING; frequency ``CUSTOM`` ↔ NONE. Anything
unreadable raises `MappingFailed`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import ValidationError

from adapters.netsuite.errors import SYSTEM
from adapters.netsuite.queries import INVOICE, PAYMENT
from domain.commands import (
    BillingScheduleCreate,
    CustomerUpsert,
    ErpProjectCreate,
    InvoicePost,
    PaymentRecord,
)
from domain.errors import MappingFailed
from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import (
    BillingModel,
    BillingSchedule,
    BillingScheduleKind,
    BillingScheduleLine,
    Customer,
    CustomerStatus,
    ErpProject,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Ledger,
    LegalEntity,
    Payment,
)
from domain.money import Money

__all__ = [
    "DIMENSIONS",
    "PAYMENT_SOURCES",
    "Reference",
    "Row",
    "applications",
    "billing_schedule",
    "billing_schedule_body",
    "customer",
    "customer_upsert_body",
    "erp_project",
    "invoice",
    "invoice_body",
    "invoice_line",
    "job_body",
    "ledger",
    "legal_entities",
    "payment",
    "payment_body",
]

Row = Mapping[str, Any]
T = TypeVar("T")

_KIND_OF_TYPE = {
    "TM": BillingScheduleKind.PERIODIC,
    "FBI": BillingScheduleKind.FIXED,
    "FBM": BillingScheduleKind.MILESTONE,
    "STD": BillingScheduleKind.RECURRING,
}
_TYPE_OF_KIND = {kind: code for code, kind in _KIND_OF_TYPE.items()}
_FREQUENCY_IN = {"CUSTOM": "NONE"}
_FREQUENCY_OUT = {"NONE": "CUSTOM"}
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@dataclass(slots=True)
class Reference:
    """Account reference data the mapping needs: currency codes, subsidiaries, items."""

    currency_code: dict[str, str] = field(default_factory=dict)  # id -> ISO 4217
    subsidiaries: dict[str, LegalEntity] = field(default_factory=dict)  # id -> entity
    items: dict[str, str] = field(default_factory=dict)  # itemid -> id

    def currency_id(self, code: str) -> str | None:
        return next((i for i, c in self.currency_code.items() if c == code), None)


def _fail(what: str, row: Row, exc: Exception | None = None) -> MappingFailed:
    return MappingFailed(f"cannot map {what} {row.get('id', '?')}: {exc or 'missing data'}",
                         system=SYSTEM)  # fmt: skip


def _mapped(what: str, row: Row, build: Callable[[], T]) -> T:
    try:
        return build()
    except (KeyError, ValueError, InvalidOperation, ValidationError) as exc:
        raise _fail(what, row, exc) from exc


def parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    match = _DATE.fullmatch(text)
    if match is None:
        return date.fromisoformat(text)
    return date(int(match[3]), int(match[2]), int(match[1]))


def parse_timestamp(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _money(amount: str | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount=Decimal(amount), currency=currency)


def _currency(reference: Reference, row: Row) -> str:
    code = reference.currency_code.get(row.get("currency", ""))
    if code is None:
        raise KeyError(f"unknown currency id {row.get('currency')!r}")
    return code


def _rid(value: str | None) -> RecordId | None:
    return None if value is None else RecordId(value)


def legal_entities(subsidiaries: Sequence[Row], currencies: Sequence[Row]) -> Reference:
    codes = {row["id"]: row["symbol"] for row in currencies}
    reference = Reference(currency_code=codes)
    for row in subsidiaries:
        reference.subsidiaries[row["id"]] = _mapped("subsidiary", row, _entity(row, codes))
    return reference


def _entity(row: Row, codes: Mapping[str, str]) -> Callable[[], LegalEntity]:
    def build() -> LegalEntity:
        return LegalEntity(
            id=RecordId(row["id"]),
            code=row.get("externalid") or row["id"],
            name=row["name"],
            country=row.get("country", ""),
            currency=codes[row["currency"]],
        )

    return build


def customer(row: Row, reference: Reference) -> Customer:
    def build() -> Customer:
        entity = reference.subsidiaries.get(row.get("subsidiary", ""))
        status = row.get("custentity_eg_status", "ACTIVE")
        return Customer(
            id=RecordId(row["id"]),
            key=CustomerKey(row.get("externalid") or row["entityid"]),
            name=row.get("companyname") or row["entityid"],
            legal_entity=entity.code if entity else None,
            currency=reference.currency_code.get(row.get("currency", "")),
            status=CustomerStatus.INACTIVE if row.get("isinactive") == "T"
            else CustomerStatus(status),
            tax_jurisdiction=row.get("custentity_eg_tax_jurisdiction"),
            email=row.get("email"),
            modified_at=parse_timestamp(row.get("modified")),
        )  # fmt: skip

    return _mapped("customer", row, build)


def erp_project(row: Row, reference: Reference) -> ErpProject:
    def build() -> ErpProject:
        model = row.get("custentity_eg_billing_model")
        nte = row.get("custentity_eg_nte")
        return ErpProject(
            id=RecordId(row["id"]),
            engagement_key=_key(row.get("externalid")),
            customer_id=_rid(row.get("parent")),
            name=row.get("companyname") or row["entityid"],
            subsidiary_id=_rid(row.get("subsidiary")),
            department_id=_rid(row.get("department")),
            class_id=_rid(row.get("class")),
            location_id=_rid(row.get("location")),
            start_date=parse_date(row.get("startdate")),
            end_date=parse_date(row.get("projectedenddate")),
            billing_model=BillingModel(model) if model else None,
            rate_card_version=row.get("custentity_eg_rate_card_version"),
            not_to_exceed=_money(nte, _currency(reference, row)) if nte else None,
            modified_at=parse_timestamp(row.get("modified")),
        )

    return _mapped("job", row, build)


def _key(value: str | None) -> EngagementKey | None:
    return None if value is None else EngagementKey(value)


def _status(row: Row) -> InvoiceStatus:
    code = row["status"]
    if code == "B":
        return InvoiceStatus.PAID
    if code != "A":
        raise ValueError(f"unknown invoice status {code!r}")
    remaining, total = Decimal(row["foreignamountremaining"]), Decimal(row["foreigntotal"])
    return InvoiceStatus.PARTIALLY_PAID if 0 < remaining < total else InvoiceStatus.OPEN


def invoice(row: Row, lines: Sequence[Row], reference: Reference) -> Invoice:
    def build() -> Invoice:
        currency = _currency(reference, row)
        total = Money(amount=Decimal(row["foreigntotal"]), currency=currency)
        return Invoice(
            id=RecordId(row["id"]),
            external_id=row.get("externalid"),
            engagement_key=_key(row.get("custbody_eg_engagement_key")),
            customer_id=_rid(row.get("customer")),
            tran_id=row.get("tranid"),
            tran_date=parse_date(row["trandate"]),
            due_date=parse_date(row.get("duedate")),
            total=total,
            amount_remaining=_money(row.get("foreignamountremaining"), currency) or total,
            status=_status(row),
            lines=tuple(invoice_line(line, currency) for line in lines),
            memo=row.get("memo"),
            modified_at=parse_timestamp(row.get("modified")),
        )

    return _mapped("invoice", row, build)


def invoice_line(row: Row, currency: str) -> InvoiceLine:
    amount = Decimal(row["netamount"])
    quantity = Decimal(row.get("quantity", "1"))
    rate = Decimal(row["rate"]) if "rate" in row else amount
    sources = row.get("custcol_eg_sources", "")
    return InvoiceLine(
        description=row.get("memo", ""),
        item=row["item"],
        quantity=quantity,
        rate=Money(amount=rate, currency=currency),
        amount=Money(amount=amount, currency=currency),
        sources=tuple(s for s in sources.split(",") if s),
    )


def payment(row: Row, reference: Reference, invoice_ids: Sequence[RecordId] = ()) -> Payment:
    return _mapped("payment", row, lambda: Payment(
        id=RecordId(row["id"]),
        external_id=row.get("externalid"),
        customer_id=_rid(row.get("customer")),
        engagement_key=_key(row.get("custbody_eg_engagement_key")),
        tran_date=parse_date(row["trandate"]),
        amount=Money(amount=Decimal(row["foreigntotal"]), currency=_currency(reference, row)),
        invoice_ids=tuple(invoice_ids),
    ))  # fmt: skip


def applications(rows: Sequence[Row]) -> dict[RecordId, tuple[RecordId, ...]]:
    """Payment id -> the invoices it was applied to, in line order (transactionline rows)."""
    applied: dict[RecordId, list[RecordId]] = {}
    for row in rows:
        if "transaction" not in row or "appliedtotransaction" not in row:
            raise MappingFailed(
                f"cannot map an application of payment {row.get('transaction', '?')}",
                system=SYSTEM,
            )
        applied.setdefault(RecordId(row["transaction"]), []).append(
            RecordId(row["appliedtotransaction"])
        )
    return {payment_id: tuple(invoices) for payment_id, invoices in applied.items()}


def ledger(rows: Sequence[Row], reference: Reference) -> Ledger:
    """Invoice headers (no lines) and payments (no applications), told apart by ``type``."""
    invoices: list[Invoice] = []
    payments: list[Payment] = []
    for row in rows:
        kind = row.get("type")
        if kind == INVOICE:
            invoices.append(invoice(row, (), reference))
        elif kind == PAYMENT:
            payments.append(payment(row, reference))
        else:
            raise _fail("transaction", row, ValueError(f"unexpected type {kind!r}"))
    return Ledger(invoices=tuple(invoices), payments=tuple(payments))


def billing_schedule(row: Row, lines: Sequence[Row], reference: Reference) -> BillingSchedule:
    def build() -> BillingSchedule:
        currency = reference.currency_code.get(row.get("currency", ""))
        frequency = row.get("frequency", "NONE")
        return BillingSchedule(
            id=RecordId(row["id"]),
            engagement_key=_key(row.get("custrecord_eg_engagement_key")),
            kind=_KIND_OF_TYPE[row["scheduletype"]],
            frequency=_FREQUENCY_IN.get(frequency, frequency),
            lines=tuple(
                BillingScheduleLine(
                    date=parse_date(line["recurrencedate"]),
                    amount=_money(line.get("amount"), currency) if currency else None,
                    description=line.get("comment", ""),
                )
                for line in lines
            ),
        )

    return _mapped("billing schedule", row, build)


# --- commands → record bodies -------------------------------------------------


def _ref(record_id: str | None) -> dict[str, str] | None:
    return None if record_id is None else {"id": record_id}


def _compact(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if value is not None}


def customer_upsert_body(command: CustomerUpsert) -> dict[str, Any]:
    """Body of ``PUT customer/eid:{key}`` (the external id travels in the URL)."""
    return _compact({
        "companyName": command.name, "isPerson": False,
        "subsidiary": _ref(command.subsidiary_id), "currency": _ref(command.currency_id),
        "email": command.email, "custentity_eg_tax_jurisdiction": command.tax_jurisdiction,
    })  # fmt: skip


def job_body(command: ErpProjectCreate) -> dict[str, Any]:
    return _compact({
        "externalId": command.engagement_key, "entityId": command.engagement_key,
        "companyName": command.name, "parent": _ref(command.customer_id),
        "subsidiary": _ref(command.subsidiary_id), "department": _ref(command.department_id),
        "class": _ref(command.class_id), "location": _ref(command.location_id),
        "startDate": command.start_date.isoformat(),
        "projectedEndDate": command.end_date.isoformat(),
        "custentity_eg_billing_model": command.billing_model.value,
        "custentity_eg_rate_card_version": command.rate_card_version,
        "custentity_eg_nte": command.not_to_exceed.amount if command.not_to_exceed else None,
    })  # fmt: skip


def billing_schedule_body(command: BillingScheduleCreate) -> dict[str, Any]:
    frequency = command.frequency.upper()
    return {
        "externalId": f"BS-{command.engagement_key}",
        "name": f"{command.engagement_key} {command.kind.value.title()}",
        "scheduleType": {"id": _TYPE_OF_KIND[command.kind]},
        "frequency": {"id": _FREQUENCY_OUT.get(frequency, frequency)},
        "project": {"id": command.erp_project_id},
        "custrecord_eg_engagement_key": command.engagement_key,
        "recurrence": {"items": [
            _compact({"recurrenceDate": line.date.isoformat(),
                      "amount": line.amount.amount if line.amount else None,
                      "comment": line.description})
            for line in command.lines
        ]},
    }  # fmt: skip


DIMENSIONS = "department,class,location"
PAYMENT_SOURCES = "subsidiary,custbody_eg_engagement_key"


def _ref_of(record: Row, name: str) -> dict[str, str] | None:
    value = record.get(name)
    return {"id": str(value["id"])} if isinstance(value, dict) and "id" in value else None


def invoice_body(
    command: InvoicePost, *, currency_id: str, items: Mapping[str, str], project: Row
) -> dict[str, Any]:
    """Body of ``POST invoice``; the project (job record) lends its financial dimensions."""
    return _compact({
        "externalId": command.external_id, "entity": {"id": command.customer_id},
        "job": _ref(command.erp_project_id), "tranDate": command.tran_date.isoformat(),
        "dueDate": command.due_date.isoformat(), "subsidiary": {"id": command.subsidiary_id},
        "currency": {"id": currency_id}, "memo": command.memo,
        "department": _ref_of(project, "department"), "class": _ref_of(project, "class"),
        "location": _ref_of(project, "location"),
        "custbody_eg_engagement_key": command.engagement_key,
        "item": {"items": [
            {"item": {"id": items[line.item]}, "description": line.description,
             "quantity": line.quantity, "rate": line.rate.amount, "amount": line.amount.amount,
             "custcol_eg_sources": ",".join(line.sources)}
            for line in command.lines
        ]},
    })  # fmt: skip


def payment_body(command: PaymentRecord, *, currency_id: str, invoice: Row) -> dict[str, Any]:
    """Body of ``POST customerPayment``; the invoice record lends subsidiary and engagement."""
    return _compact({
        "externalId": command.external_id, "customer": {"id": command.customer_id},
        "tranDate": command.tran_date.isoformat(), "payment": command.amount.amount,
        "currency": {"id": currency_id}, "subsidiary": _ref_of(invoice, "subsidiary"),
        "undepFunds": True,
        "custbody_eg_engagement_key": invoice.get("custbody_eg_engagement_key"),
        "apply": {"items": [{"doc": {"id": command.invoice_id}, "apply": True,
                             "amount": command.amount.amount}]},
    })  # fmt: skip
