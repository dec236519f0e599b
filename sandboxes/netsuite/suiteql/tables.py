"""The SuiteQL tables the sandbox exposes, derived from the record store.

Row values are typed for comparison: ids and references `Decimal`, amounts
`Decimal`, text `str`, booleans ``'T'``/``'F'``, dates `date`, timestamps
`datetime`. Tables: customer, job, transaction (``type`` ``CustInvc`` /
``CustPymt``), transactionline, subsidiary, currency, department,
classification, location, item, account, billingschedule and the sandbox's
billingschedulerecurrence.

``transactionline`` (documented choice): every transaction has its main line
(``mainline = 'T'``, ``linesequencenumber = 0``, ``foreignamount`` = total).
Invoice item lines carry ``item, memo, quantity, rate, netamount,
foreignamount, custcol_eg_sources``. A payment's applications are its
lines with ``appliedtotransaction`` = the invoice id and ``foreignamount`` =
the amount applied. Amounts are positive (the real ledger signs differ).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sandboxes.netsuite.schema import SPECS
from sandboxes.netsuite.state import Record, Store

__all__ = ["TABLES", "ColumnDef", "TableDef", "rows_of"]

ColumnKind = Literal["int", "decimal", "text", "bool", "date", "datetime"]
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ColumnDef:
    kind: ColumnKind
    refs: tuple[str, ...] = ()  # record types whose refName BUILTIN.DF shows
    labels: dict[str, str] = field(default_factory=dict)  # code -> display text
    label_key: str | None = None  # labels keyed "<that column's value>:<code>"


@dataclass(frozen=True, slots=True)
class TableDef:
    name: str
    columns: dict[str, ColumnDef]
    rows: Callable[[Store], Iterator[Row]]


def _num(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _bool(value: Any) -> str | None:
    return None if value is None else ("T" if value else "F")


def _record_row(record: Record, columns: dict[str, ColumnDef], fields: dict[str, str]) -> Row:
    row: Row = {}
    for column, definition in columns.items():
        value = record.get(fields.get(column, column))
        if definition.kind in ("int", "decimal"):
            row[column] = _num(value)
        elif definition.kind == "bool":
            row[column] = _bool(value)
        else:
            row[column] = value
    return row


def _simple(record_type: str, columns: dict[str, ColumnDef], **fields: str) -> TableDef:
    """A table whose columns are the record's fields, lowercased (or renamed via `fields`)."""
    spec = SPECS[record_type]
    names = {name.lower(): name for name in spec.fields}
    mapping = {column: fields.get(column, names.get(column, column)) for column in columns}

    def rows(store: Store) -> Iterator[Row]:
        for record in sorted(store.all(record_type), key=lambda r: int(r["id"])):
            yield _record_row(record, columns, mapping)

    return TableDef(record_type.lower(), columns, rows)


def _c(kind: ColumnKind, *refs: str, labels: dict[str, str] | None = None) -> ColumnDef:
    return ColumnDef(kind, refs, labels or {})


_ID = {"id": _c("int")}
_TAIL = {"externalid": _c("text"), "isinactive": _c("bool"), "lastmodifieddate": _c("datetime")}
_STATUS_LABELS = {
    "CustInvc:A": "Invoice : Open",
    "CustInvc:B": "Invoice : Paid In Full",
    "CustPymt:B": "Payment : Not Deposited",
    "CustPymt:C": "Payment : Deposited",
}
_TRANSACTION_COLUMNS: dict[str, ColumnDef] = {
    **_ID, "type": _c("text", labels={"CustInvc": "Invoice", "CustPymt": "Payment"}),
    "recordtype": _c("text"), "tranid": _c("text"), "entity": _c("int", "customer", "job"),
    "job": _c("int", "job"), "status": ColumnDef("text", labels=_STATUS_LABELS, label_key="type"),
    "foreigntotal": _c("decimal"), "foreignamountremaining": _c("decimal"),
    "trandate": _c("date"), "duedate": _c("date"), "currency": _c("int", "currency"),
    "exchangerate": _c("decimal"), "subsidiary": _c("int", "subsidiary"),
    "department": _c("int", "department"), "class": _c("int", "classification"),
    "location": _c("int", "location"), "memo": _c("text"),
    "custbody_eg_engagement_key": _c("text"), "externalid": _c("text"),
    "createddate": _c("datetime"), "lastmodifieddate": _c("datetime"),
}  # fmt: skip
_LINE_COLUMNS: dict[str, ColumnDef] = {
    "id": _c("int"), "transaction": _c("int", "invoice", "customerPayment"),
    "linesequencenumber": _c("int"),
    "mainline": _c("bool"), "item": _c("int", "serviceItem"), "memo": _c("text"),
    "quantity": _c("decimal"), "rate": _c("decimal"), "netamount": _c("decimal"),
    "foreignamount": _c("decimal"), "custcol_eg_sources": _c("text"),
    "appliedtotransaction": _c("int", "invoice"),
}  # fmt: skip


def _transactions(store: Store) -> Iterator[Row]:
    rows: list[Row] = []
    for record in store.all("invoice"):
        row = _record_row(record, _TRANSACTION_COLUMNS, {
            "tranid": "tranId", "trandate": "tranDate", "duedate": "dueDate",
            "foreigntotal": "total", "foreignamountremaining": "amountRemaining",
            "exchangerate": "exchangeRate", "createddate": "createdDate",
            "lastmodifieddate": "lastModifiedDate", "externalid": "externalId",
        })  # fmt: skip
        row.update(type="CustInvc", recordtype="invoice")
        rows.append(row)
    for record in store.all("customerPayment"):
        applied = sum((line["amount"] for line in record.get("apply", []) if line.get("apply")),
                      Decimal(0))  # fmt: skip
        row = _record_row(record, _TRANSACTION_COLUMNS, {
            "tranid": "tranId", "trandate": "tranDate", "entity": "customer",
            "foreigntotal": "payment", "createddate": "createdDate",
            "lastmodifieddate": "lastModifiedDate", "externalid": "externalId",
        })  # fmt: skip
        row.update(
            type="CustPymt",
            recordtype="customerpayment",
            job=None,
            duedate=None,
            foreignamountremaining=record["payment"] - applied,
            exchangerate=Decimal(1),
        )
        rows.append(row)
    rows.sort(key=lambda row: row["id"])
    yield from rows


def _lines(store: Store) -> Iterator[Row]:
    rows: list[Row] = []
    for record_type, total in (("invoice", "total"), ("customerPayment", "payment")):
        for record in store.all(record_type):
            tid = Decimal(record["id"])
            rows.append({"id": Decimal(0), "transaction": tid, "linesequencenumber": Decimal(0),
                         "mainline": "T", "memo": record.get("memo"),
                         "foreignamount": record[total], "netamount": record[total]})  # fmt: skip
            for line in record.get("item", []):
                rows.append({
                    "id": Decimal(line["line"]), "transaction": tid,
                    "linesequencenumber": Decimal(line["line"]), "mainline": "F",
                    "item": Decimal(line["item"]), "memo": line.get("description"),
                    "quantity": line.get("quantity"), "rate": line.get("rate"),
                    "netamount": line["amount"], "foreignamount": line["amount"],
                    "custcol_eg_sources": line.get("custcol_eg_sources"),
                })  # fmt: skip
            for line in record.get("apply", []):
                if line.get("apply"):
                    rows.append({
                        "id": Decimal(line["line"]), "transaction": tid,
                        "linesequencenumber": Decimal(line["line"]), "mainline": "F",
                        "appliedtotransaction": Decimal(line["doc"]),
                        "foreignamount": line["amount"], "netamount": line["amount"],
                    })  # fmt: skip
    rows.sort(key=lambda row: (row["transaction"], row["linesequencenumber"]))
    yield from rows


def _recurrence(store: Store) -> Iterator[Row]:
    for record in sorted(store.all("billingSchedule"), key=lambda r: int(r["id"])):
        for number, line in enumerate(record.get("recurrence", []), start=1):
            yield {
                "billingschedule": Decimal(record["id"]), "linesequencenumber": Decimal(number),
                "recurrencedate": line["recurrenceDate"], "amount": line.get("amount"),
                "comment": line.get("comment"),
            }  # fmt: skip


TABLES: dict[str, TableDef] = {t.name: t for t in (
    _simple("customer", {
        **_ID, "entityid": _c("text"), "companyname": _c("text"), "isperson": _c("bool"),
        "email": _c("text"), "subsidiary": _c("int", "subsidiary"),
        "currency": _c("int", "currency"),
        "entitystatus": _c("text", labels=SPECS["customer"].fields["entityStatus"].options),
        "custentity_eg_tax_jurisdiction": _c("text"), "custentity_eg_status": _c("text"),
        "datecreated": _c("datetime"), **_TAIL,
    }),
    _simple("job", {
        **_ID, "entityid": _c("text"), "companyname": _c("text"), "parent": _c("int", "customer"),
        "subsidiary": _c("int", "subsidiary"), "currency": _c("int", "currency"),
        "department": _c("int", "department"), "class": _c("int", "classification"),
        "location": _c("int", "location"), "startdate": _c("date"),
        "projectedenddate": _c("date"),
        "entitystatus": _c("text", labels=SPECS["job"].fields["entityStatus"].options),
        "custentity_eg_billing_model": _c("text"), "custentity_eg_rate_card_version": _c("text"),
        "custentity_eg_nte": _c("decimal"), "datecreated": _c("datetime"), **_TAIL,
    }),
    TableDef("transaction", _TRANSACTION_COLUMNS, _transactions),
    TableDef("transactionline", _LINE_COLUMNS, _lines),
    _simple("subsidiary", {**_ID, "name": _c("text"), "legalname": _c("text"),
                           "country": _c("text"), "currency": _c("int", "currency"), **_TAIL}),
    _simple("currency", {**_ID, "name": _c("text"), "symbol": _c("text"),
                         "displaysymbol": _c("text"), "exchangerate": _c("decimal"),
                         "isbasecurrency": _c("bool"), **_TAIL}),
    _simple("department", {**_ID, "name": _c("text"), **_TAIL}),
    _simple("classification", {**_ID, "name": _c("text"), **_TAIL}),
    _simple("location", {**_ID, "name": _c("text"), "subsidiary": _c("int", "subsidiary"),
                         **_TAIL}),
    _simple("account", {**_ID, "acctnumber": _c("text"), "fullname": _c("text"),
                        "accttype": _c("text"), "subsidiary": _c("int", "subsidiary"), **_TAIL},
            fullname="acctName"),
    _simple("billingSchedule", {
        **_ID, "name": _c("text"),
        "scheduletype": _c("text", labels=SPECS["billingSchedule"].fields["scheduleType"].options),
        "frequency": _c("text", labels=SPECS["billingSchedule"].fields["frequency"].options),
        "project": _c("int", "job"), "currency": _c("int", "currency"),
        "custrecord_eg_engagement_key": _c("text"), **_TAIL,
    }),
    TableDef("billingschedulerecurrence", {
        "billingschedule": _c("int", "billingSchedule"), "linesequencenumber": _c("int"),
        "recurrencedate": _c("date"), "amount": _c("decimal"), "comment": _c("text"),
    }, _recurrence),
)}  # fmt: skip
_ITEM_COLUMNS = {
    **_ID, "itemid": _c("text"), "displayname": _c("text"), "description": _c("text"), **_TAIL,
}  # fmt: skip
_SERVICE_ITEMS = _simple("serviceItem", _ITEM_COLUMNS)
TABLES["item"] = TableDef(
    "item",
    {**_ITEM_COLUMNS, "itemtype": _c("text")},
    lambda store: ({**row, "itemtype": "Service"} for row in _SERVICE_ITEMS.rows(store)),
)


def rows_of(store: Store, table: TableDef) -> list[Row]:
    """The table's rows, cached until the next write to the store."""
    cached = store.cache.get(table.name)
    if cached is not None and cached[0] == store.version:
        rows: list[Row] = cached[1]
        return rows
    rows = list(table.rows(store))
    store.cache[table.name] = (store.version, rows)
    return rows
