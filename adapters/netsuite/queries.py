"""The SuiteQL the adapter sends: batch reads by ``IN`` lists, always ordered by a unique key.

Values are never interpolated raw: ids must be digits (anything else cannot
be a NetSuite internal id and is dropped), text is quoted with ``''``
escaping. ``IN`` lists hold at most `MAX_IN` values (Oracle's limit).
Timestamps are read through ``TO_CHAR`` because SuiteQL shows a bare
``lastmodifieddate`` as a date only. A transaction's ``entity`` may be the
customer or one of its projects (``job``); the ``customer`` column resolves
it to the customer in the same query, by a correlated sub-select of the
job's ``parent`` (our jobs hang directly off a customer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "ALL_CUSTOMERS",
    "CURRENCIES",
    "INVOICE",
    "ITEMS",
    "MAX_IN",
    "PAYMENT",
    "SUBSIDIARIES",
    "billing_schedules",
    "chunks",
    "customers",
    "id_by_external_id",
    "in_ids",
    "in_texts",
    "invoice_lines",
    "invoices",
    "jobs",
    "ledger",
    "payment_applications",
    "payments",
    "payments_by_modification",
    "quote",
    "recurrences",
    "valid_ids",
]

MAX_IN = 1000
INVOICE = "CustInvc"  # transaction.type of an invoice
PAYMENT = "CustPymt"  # transaction.type of a customer payment
MODIFIED = "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS modified"

SUBSIDIARIES = "SELECT id, name, country, currency, externalid FROM subsidiary ORDER BY id"
CURRENCIES = "SELECT id, symbol FROM currency ORDER BY id"
ITEMS = "SELECT id, itemid FROM item ORDER BY id"

_CUSTOMER = (
    "id, entityid, companyname, externalid, subsidiary, currency, email, isinactive, "
    f"custentity_eg_status, custentity_eg_tax_jurisdiction, {MODIFIED}"
)
_JOB = (
    "id, entityid, companyname, externalid, parent, subsidiary, currency, department, class, "
    "location, startdate, projectedenddate, custentity_eg_billing_model, "
    f"custentity_eg_rate_card_version, custentity_eg_nte, {MODIFIED}"
)
_CUSTOMER_OF_ENTITY = (
    "NVL((SELECT parent FROM job WHERE job.id = transaction.entity), transaction.entity) "
    "AS customer"
)
_TRANSACTION = (
    f"id, tranid, {_CUSTOMER_OF_ENTITY}, status, foreigntotal, foreignamountremaining, "
    "trandate, duedate, currency, subsidiary, memo, externalid, custbody_eg_engagement_key, "
    f"{MODIFIED}"
)


ALL_CUSTOMERS = f"SELECT {_CUSTOMER} FROM customer ORDER BY id"


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def valid_ids(ids: Iterable[str]) -> list[str]:
    """Unique internal ids in first-seen order; non-numeric ones cannot exist and are dropped."""
    return [value for value in dict.fromkeys(ids) if value.isdigit()]


def chunks(values: Sequence[str], size: int = MAX_IN) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def in_ids(column: str, ids: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(ids)})"


def in_texts(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(quote(v) for v in values)})"


def customers(condition: str) -> str:
    return f"SELECT {_CUSTOMER} FROM customer WHERE {condition} ORDER BY id"


def jobs(condition: str) -> str:
    return f"SELECT {_JOB} FROM job WHERE {condition} ORDER BY id"


def invoices(condition: str) -> str:
    return (
        f"SELECT {_TRANSACTION} FROM transaction WHERE type = {quote(INVOICE)} AND ({condition}) "
        "ORDER BY id"
    )


def payments(condition: str) -> str:
    return (
        f"SELECT {_TRANSACTION} FROM transaction WHERE type = {quote(PAYMENT)} AND ({condition}) "
        "ORDER BY id"
    )


def payments_by_modification(condition: str) -> str:
    """Payment headers, oldest modification first (the inbound sync's keyset pages)."""
    return (
        f"SELECT {_TRANSACTION} FROM transaction WHERE type = {quote(PAYMENT)} AND ({condition}) "
        "ORDER BY lastmodifieddate, id"
    )


def ledger(condition: str) -> str:
    """Invoice and payment headers in one query; each row's ``type`` tells which it is."""
    return (
        f"SELECT type, {_TRANSACTION} FROM transaction "
        f"WHERE {in_texts('type', [INVOICE, PAYMENT])} AND ({condition}) ORDER BY id"
    )


def invoice_lines(condition: str) -> str:
    return (
        "SELECT transaction, linesequencenumber, BUILTIN.DF(item) AS item, memo, quantity, "
        "rate, netamount, custcol_eg_sources FROM transactionline "
        f"WHERE mainline = 'F' AND item IS NOT NULL AND ({condition}) "
        "ORDER BY transaction, linesequencenumber"
    )


def payment_applications(condition: str) -> str:
    return (
        "SELECT transaction, linesequencenumber, appliedtotransaction FROM transactionline "
        f"WHERE mainline = 'F' AND appliedtotransaction IS NOT NULL "
        f"AND ({condition}) ORDER BY transaction, linesequencenumber"
    )


def billing_schedules(condition: str) -> str:
    return (
        "SELECT id, name, scheduletype, frequency, project, currency, "
        f"custrecord_eg_engagement_key, externalid FROM billingschedule WHERE {condition} "
        "ORDER BY id"
    )


def recurrences(condition: str) -> str:
    return (
        "SELECT billingschedule, linesequencenumber, recurrencedate, amount, comment "
        f"FROM billingschedulerecurrence WHERE {condition} "
        "ORDER BY billingschedule, linesequencenumber"
    )


def id_by_external_id(table: str, external_id: str, type_filter: str | None = None) -> str:
    condition = f"externalid = {quote(external_id)}"
    if type_filter is not None:
        condition = f"type = {quote(type_filter)} AND {condition}"
    return f"SELECT id FROM {table} WHERE {condition} ORDER BY id"
