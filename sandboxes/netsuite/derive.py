"""Server-side derivations NetSuite performs on a write.

Defaults are sourced as NetSuite does (a customer's currency from its
subsidiary, an invoice's subsidiary and currency from its customer, a job's
currency from its parent); a line without ``amount`` gets quantity * rate
rounded to the currency's decimals; invoice ``total`` sums the item lines and
``amountRemaining``/``status`` follow the payments applied to it. A payment's
applications must be invoices of the same customer and currency, within
the amount due and the payment amount.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sandboxes.netsuite.amounts import check_number, currency_places, line_amount
from sandboxes.netsuite.errors import bad_request
from sandboxes.netsuite.state import Record, Store
from sandboxes.netsuite.values import invalid_value

__all__ = ["derive", "recompute_invoice"]


def derive(store: Store, record_type: str, record: Record) -> set[str]:
    """Fill server-side defaults and checks; return invoice ids whose balance may change."""
    if record_type == "customer":
        record.setdefault("entityId", record["companyName"])
        record.setdefault("isPerson", False)
        record.setdefault("entityStatus", "13")
        record.setdefault("currency", store.records["subsidiary"][record["subsidiary"]]["currency"])
    elif record_type == "job":
        parent = store.records["customer"][record["parent"]]
        if parent["subsidiary"] != record["subsidiary"]:
            raise invalid_value("subsidiary")
        record.setdefault("entityId", record.get("externalId", record["companyName"]))
        record.setdefault("entityStatus", "2")
        record.setdefault("currency", parent.get("currency"))
    elif record_type == "billingSchedule":
        project = store.records["job"][record["project"]]
        record["currency"] = project.get("currency")
        record.setdefault("scheduleType", "STD")
        record.setdefault("frequency", "MONTHLY")
        if project.get("externalId"):
            record.setdefault("custrecord_eg_engagement_key", project["externalId"])
    elif record_type == "invoice":
        return _derive_invoice(store, record)
    elif record_type == "customerPayment":
        return _derive_payment(store, record)
    return set()


def _customer_of(store: Store, entity_id: str) -> Record:
    found = store.find(("customer", "job"), entity_id)
    assert found is not None  # refs were resolved by coerce()
    entity_type, entity = found
    return entity if entity_type == "customer" else store.records["customer"][entity["parent"]]


def _derive_invoice(store: Store, record: Record) -> set[str]:
    customer = _customer_of(store, record["entity"])
    if record["entity"] in store.records["job"]:
        record.setdefault("job", record["entity"])
    job = store.records["job"].get(record.get("job", ""))
    if job is not None and job["parent"] != customer["id"]:
        raise invalid_value("job")
    if job is not None and job.get("externalId"):
        record.setdefault("custbody_eg_engagement_key", job["externalId"])
    record.setdefault("subsidiary", customer["subsidiary"])
    record.setdefault("currency", customer.get("currency"))
    if record.get("currency") != customer.get("currency"):
        raise invalid_value("currency")
    record.setdefault("tranId", f"INV{record['id']}")
    record.setdefault("tranDate", store.last_stamp.date())
    record.setdefault("dueDate", record["tranDate"] + timedelta(days=30))
    record.setdefault("exchangeRate", Decimal(1))
    lines = record.get("item", [])
    if not lines:
        raise bad_request(
            "USER_ERROR", "You must enter at least one line item for this transaction.", "item"
        )
    places = currency_places(store, record.get("currency"))
    for index, line in enumerate(lines):
        line.setdefault("quantity", Decimal(1))
        if "amount" not in line:
            path = f"item.items[{index}].amount"
            if "rate" not in line:
                raise bad_request("USER_ERROR", "Please enter value(s) for: Amount.", path)
            line["amount"] = line_amount(line["quantity"], line["rate"], places, path)
    total = sum((line["amount"] for line in lines), Decimal(0))
    record["total"] = check_number(total, "total", None)  # lines: check_money_places
    record["amountRemaining"] = record["total"] - _applied(store, record["id"], None)
    record["status"] = "B" if record["amountRemaining"] <= 0 else "A"
    return set()


def _derive_payment(store: Store, record: Record) -> set[str]:
    customer = store.records["customer"][record["customer"]]
    record.setdefault("currency", customer.get("currency"))
    record.setdefault("subsidiary", customer["subsidiary"])
    record.setdefault("undepFunds", "account" not in record)
    record.setdefault("tranId", f"PYMT{record['id']}")
    record.setdefault("tranDate", store.last_stamp.date())
    record.setdefault("status", "B")
    old = store.records["customerPayment"].get(record["id"])
    touched = {line["doc"] for line in (old or {}).get("apply", [])}
    total_applied = Decimal(0)
    for index, line in enumerate(record.get("apply", [])):
        path = f"apply.items[{index}]"
        invoice = store.records["invoice"][line["doc"]]
        if _customer_of(store, invoice["entity"])["id"] != customer["id"]:
            raise invalid_value(f"{path}.doc")
        if invoice.get("currency") != record.get("currency"):
            raise invalid_value(f"{path}.doc")
        due = invoice["total"] - _applied(store, invoice["id"], record["id"])
        line.setdefault("apply", True)
        line.setdefault("amount", due)
        if line["apply"]:
            if line["amount"] > due:
                raise bad_request(
                    "USER_ERROR",
                    f"The amount applied to {store.ref_name('invoice', invoice['id'])} "
                    f"exceeds the amount due ({due}).",
                    f"{path}.amount",
                )
            total_applied += line["amount"]
        touched.add(invoice["id"])
    if total_applied > record["payment"]:
        raise bad_request(
            "USER_ERROR", "The total amount applied exceeds the payment amount.", "payment"
        )
    return touched


def _applied(store: Store, invoice_id: str, excluding_payment: str | None) -> Decimal:
    total = Decimal(0)
    for payment in store.records["customerPayment"].values():
        if payment["id"] == excluding_payment:
            continue
        for line in payment.get("apply", []):
            if line.get("doc") == invoice_id and line.get("apply", True):
                total += line.get("amount", Decimal(0))
    return total


def recompute_invoice(store: Store, invoice_id: str, stamp: datetime) -> None:
    invoice = store.records["invoice"].get(invoice_id)
    if invoice is None:
        return
    invoice["amountRemaining"] = invoice["total"] - _applied(store, invoice_id, None)
    invoice["status"] = "B" if invoice["amountRemaining"] <= 0 else "A"
    invoice["lastModifiedDate"] = stamp
    store.touched()
