"""Render the demo firm into the NetSuite account the sandbox serves.

Everything here is deterministic: ids come from the store's sequences in the
firm's order, modstamps from the firm's dates. Reference data (subsidiaries,
currencies, departments, classes, locations, bank accounts, service items)
carries the firm's codes as ``externalId``; customers carry the customer key,
jobs the engagement key, invoices and payments their firm keys.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sandboxes.firm import Firm
from sandboxes.netsuite.state import Record, Store

__all__ = ["SCHEDULE_TYPE_OF_KIND", "build_store"]

_CURRENCY_NAMES = {
    "USD": ("US Dollar", "$", Decimal("1.00")),
    "GBP": ("British Pound", "£", Decimal("1.27")),
    "EUR": ("Euro", "€", Decimal("1.08")),
}
_ITEMS = {
    "SERVICES": "Professional Services",
    "MILESTONE": "Milestone Billing",
    "RETAINER": "Retainer Fee",
    "SUBSCRIPTION": "Managed Service Subscription",
    "EXPENSE": "Reimbursable Expenses",
    "FIXED_FEE": "Fixed Fee",
}
SCHEDULE_TYPE_OF_KIND = {"PERIODIC": "TM", "FIXED": "FBI", "MILESTONE": "FBM", "RECURRING": "STD"}
_FREQUENCY = {"MONTHLY": "MONTHLY", "NONE": "CUSTOM"}


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _add(store: Store, record_type: str, record: Record, stamp: datetime) -> str:
    record_id = store.mint(record_type)
    record["id"] = record_id
    record.setdefault("isInactive", False)
    record["lastModifiedDate"] = stamp
    store.note_stamp(stamp)
    store.insert(record_type, record)
    return record_id


def _reference(firm: Firm, store: Store, epoch: datetime) -> dict[str, dict[str, str]]:
    ids: dict[str, dict[str, str]] = {
        "currency": {}, "subsidiary": {}, "department": {}, "classification": {},
        "location": {}, "account": {}, "item": {},
    }  # fmt: skip
    for entity in firm.legal_entities:
        code = entity.currency
        if code in ids["currency"]:
            continue
        name, symbol, rate = _CURRENCY_NAMES.get(code, (code, code, Decimal(1)))
        ids["currency"][code] = _add(store, "currency", {
            "name": name, "symbol": code, "displaySymbol": symbol, "exchangeRate": rate,
            "isBaseCurrency": code == "USD", "externalId": code,
        }, epoch)  # fmt: skip
    for entity in firm.legal_entities:
        sub = _add(store, "subsidiary", {
            "name": entity.name, "legalName": entity.name, "country": entity.country,
            "currency": ids["currency"][entity.currency], "externalId": entity.code,
        }, epoch)  # fmt: skip
        ids["subsidiary"][entity.code] = sub
        ids["account"][entity.code] = _add(store, "account", {
            "acctName": f"Operating Account {entity.currency}", "acctNumber": f"1000-{entity.code}",
            "acctType": "Bank", "subsidiary": sub, "externalId": f"BANK-{entity.code}",
        }, epoch)  # fmt: skip
    for department in firm.departments:
        ids["department"][department.code] = _add(store, "department", {
            "name": department.name, "externalId": department.code}, epoch)  # fmt: skip
    for line in firm.service_lines:
        ids["classification"][line.class_code] = _add(store, "classification", {
            "name": line.name, "externalId": line.class_code}, epoch)  # fmt: skip
    for location in firm.locations:
        ids["location"][location.code] = _add(store, "location", {
            "name": location.name, "externalId": location.code,
            "subsidiary": ids["subsidiary"][location.legal_entity]}, epoch)  # fmt: skip
    for code, name in _ITEMS.items():
        ids["item"][code] = _add(store, "serviceItem", {
            "itemId": code, "displayName": name, "description": name, "externalId": code,
        }, epoch)  # fmt: skip
    return ids


def build_store(firm: Firm) -> Store:
    """A fresh store holding the firm as NetSuite would hold it."""
    store = Store()
    epoch = _at(firm.as_of - timedelta(days=730), 8)
    ids = _reference(firm, store, epoch)
    customers: dict[str, str] = {}
    for index, customer in enumerate([*firm.customers, *firm.duplicate_customers]):
        created = epoch + timedelta(days=30, minutes=index)
        customers[customer.key] = _add(store, "customer", {
            "entityId": customer.name, "companyName": customer.name, "isPerson": False,
            "email": customer.email, "subsidiary": ids["subsidiary"][customer.legal_entity],
            "currency": ids["currency"][customer.currency],
            "entityStatus": "8" if customer.status == "PROSPECT" else "13",
            "custentity_eg_status": customer.status,
            "custentity_eg_tax_jurisdiction": customer.tax_jurisdiction,
            "externalId": customer.key, "dateCreated": created,
        }, created)  # fmt: skip
    jobs: dict[str, str] = {}
    for engagement in firm.engagements:
        if "netsuite" not in engagement.present_in:
            continue
        created = _at(engagement.start_date, 9)
        jobs[engagement.key] = _add(store, "job", {
            "entityId": engagement.key, "companyName": engagement.name,
            "parent": customers[engagement.customer],
            "subsidiary": ids["subsidiary"][engagement.legal_entity],
            "currency": ids["currency"][engagement.currency],
            "department": ids["department"][engagement.department],
            "class": ids["classification"][engagement.class_code],
            "location": ids["location"][engagement.location],
            "startDate": engagement.start_date, "projectedEndDate": engagement.end_date,
            "entityStatus": "2" if engagement.status == "ACTIVE" else "1",
            "custentity_eg_billing_model": engagement.billing_model,
            "custentity_eg_rate_card_version": engagement.rate_card_version,
            "custentity_eg_nte": engagement.not_to_exceed,
            "externalId": engagement.key, "dateCreated": created,
        }, created)  # fmt: skip
    engagements = {engagement.key: engagement for engagement in firm.engagements}
    for schedule in firm.billing_schedules:
        job = jobs.get(schedule.engagement_key)
        if job is None:
            continue
        engagement = engagements[schedule.engagement_key]
        _add(store, "billingSchedule", {
            "name": f"{schedule.engagement_key} {schedule.kind.title()}",
            "scheduleType": SCHEDULE_TYPE_OF_KIND[schedule.kind],
            "frequency": _FREQUENCY[schedule.frequency], "project": job,
            "currency": ids["currency"][engagement.currency],
            "custrecord_eg_engagement_key": schedule.engagement_key,
            "externalId": f"BS-{schedule.engagement_key}",
            "recurrence": [
                {"recurrenceDate": line.date, "amount": line.amount, "comment": line.description}
                for line in schedule.lines
            ],
        }, _at(engagement.start_date, 10))  # fmt: skip
    invoices: dict[str, str] = {}
    for number, invoice in enumerate(firm.invoices, start=1):
        engagement = engagements[invoice.engagement_key]
        invoices[invoice.key] = _add(store, "invoice", {
            "entity": customers[invoice.customer], "job": jobs.get(invoice.engagement_key),
            "tranId": f"INV{number:05d}", "tranDate": invoice.tran_date,
            "dueDate": invoice.due_date, "subsidiary": ids["subsidiary"][invoice.legal_entity],
            "currency": ids["currency"][invoice.currency],
            "department": ids["department"][engagement.department],
            "class": ids["classification"][engagement.class_code],
            "location": ids["location"][engagement.location],
            "memo": f"{engagement.name} {invoice.period_start:%Y-%m}",
            "custbody_eg_engagement_key": invoice.engagement_key, "externalId": invoice.key,
            "exchangeRate": Decimal(1), "total": invoice.total,
            "amountRemaining": invoice.amount_remaining,
            "status": "B" if invoice.status == "paid" else "A",
            "createdDate": _at(invoice.tran_date, 17),
            "item": [
                {"line": n, "item": ids["item"][line.item], "description": line.description,
                 "quantity": line.quantity, "rate": line.rate, "amount": line.amount,
                 "custcol_eg_sources": ",".join(line.sources)}
                for n, line in enumerate(invoice.lines, start=1)
            ],
        }, _at(invoice.tran_date, 17))  # fmt: skip
    by_key = {invoice.key: invoice for invoice in firm.invoices}
    for number, payment in enumerate(firm.payments, start=1):
        invoice = by_key[payment.invoice]
        _add(store, "customerPayment", {
            "customer": customers[payment.customer], "tranId": f"PYMT{number:05d}",
            "tranDate": payment.date, "payment": payment.amount,
            "currency": ids["currency"][payment.currency],
            "subsidiary": ids["subsidiary"][invoice.legal_entity],
            "account": ids["account"][invoice.legal_entity], "undepFunds": False,
            "custbody_eg_engagement_key": invoice.engagement_key, "externalId": payment.key,
            "status": "C", "createdDate": _at(payment.date, 15),
            "apply": [{"line": 1, "doc": invoices[payment.invoice], "apply": True,
                       "amount": payment.amount}],
        }, _at(payment.date, 15))  # fmt: skip
    _drop_nulls(store)
    return store


def _drop_nulls(store: Store) -> None:
    for table in store.records.values():
        for record in table.values():
            for name in [name for name, value in record.items() if value is None]:
                del record[name]
