"""The record types the sandbox serves and the fields each one has.

Field kinds: ``text``, ``bool``, ``date`` (``YYYY-MM-DD``), ``datetime``
(read-only ISO 8601 UTC), ``money`` (a currency amount), ``rate`` (a unit
price) and ``number`` (JSON numbers, kept as Decimal; ranges and decimals in
`sandboxes.netsuite.amounts`), ``integer``, ``ref`` (written ``{"id": "5"}`` or
``{"externalId": "X"}``, read ``{"id", "refName", "links"}``) and ``select``
(a NetSuite list value, written ``{"id": "A"}``, read ``{"id", "refName"}``).

Sandbox shape of ``billingSchedule`` (documented choice): body fields
``name``, ``scheduleType`` (``TM`` time & materials, ``FBI`` fixed bid
interval, ``FBM`` fixed bid milestone, ``STD`` standard), ``frequency``
(``MONTHLY``, ``QUARTERLY``, ``ANNUALLY``, ``CUSTOM``), ``project`` (the job),
``custrecord_eg_engagement_key``, ``externalId``, read-only ``currency`` (the
project's), and the sublist ``recurrence`` of ``{recurrenceDate, amount,
comment}`` lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CUSTOMER_STATUSES", "SPECS", "FieldSpec", "RecordSpec", "spec_for"]

Kind = Literal[
    "text", "bool", "date", "datetime", "money", "rate", "number", "integer", "ref", "select"
]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    kind: Kind
    label: str
    refs: tuple[str, ...] = ()  # record types a ref may point at
    options: dict[str, str] = field(default_factory=dict)  # select id -> label
    mandatory: bool = False
    read_only: bool = False
    allowed: tuple[str, ...] = ()  # permitted text values (custom list-like fields)


@dataclass(frozen=True, slots=True)
class RecordSpec:
    name: str
    fields: dict[str, FieldSpec]
    sublists: dict[str, dict[str, FieldSpec]] = field(default_factory=dict)
    id_space: Literal["entity", "transaction", "own"] = "own"


def _text(label: str, *, mandatory: bool = False, allowed: tuple[str, ...] = ()) -> FieldSpec:
    return FieldSpec("text", label, mandatory=mandatory, allowed=allowed)


def _ref(label: str, *types: str, mandatory: bool = False, ro: bool = False) -> FieldSpec:
    return FieldSpec("ref", label, refs=types, mandatory=mandatory, read_only=ro)


def _select(label: str, options: dict[str, str], *, ro: bool = False) -> FieldSpec:
    return FieldSpec("select", label, options=options, read_only=ro)


def _common(**extra: FieldSpec) -> dict[str, FieldSpec]:
    return {
        "externalId": _text("External ID"),
        "isInactive": FieldSpec("bool", "Inactive"),
        "lastModifiedDate": FieldSpec("datetime", "Last Modified", read_only=True),
        **extra,
    }


CUSTOMER_STATUSES = ("ACTIVE", "ON_HOLD", "PROSPECT")
BILLING_MODELS = ("TIME_AND_MATERIALS", "FIXED_FEE", "MILESTONE", "RETAINER", "SUBSCRIPTION")
COUNTRIES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany"}
CUSTOMER_STAGE = {
    "13": "CUSTOMER-Closed Won",
    "15": "CUSTOMER-Renewal",
    "8": "PROSPECT-In Discussion",
    "6": "LEAD-Unqualified",
}
PROJECT_STATUS = {"1": "Closed", "2": "In Progress", "3": "Not Awarded", "4": "Pending"}
INVOICE_STATUS = {"A": "Open", "B": "Paid In Full"}
PAYMENT_STATUS = {"B": "Not Deposited", "C": "Deposited"}
SCHEDULE_TYPES = {
    "TM": "Time and Materials",
    "FBI": "Fixed Bid Interval",
    "FBM": "Fixed Bid Milestone",
    "STD": "Standard",
}
FREQUENCIES = {"MONTHLY": "Monthly", "QUARTERLY": "Quarterly", "ANNUALLY": "Annually",
               "CUSTOM": "Custom"}  # fmt: skip

SPECS: dict[str, RecordSpec] = {
    "subsidiary": RecordSpec("subsidiary", _common(
        name=_text("Name", mandatory=True),
        legalName=_text("Legal Name"),
        country=_select("Country", COUNTRIES),
        currency=_ref("Currency", "currency", mandatory=True),
    )),
    "currency": RecordSpec("currency", _common(
        name=_text("Name", mandatory=True),
        symbol=_text("ISO Code", mandatory=True),
        displaySymbol=_text("Symbol"),
        exchangeRate=FieldSpec("number", "Default Exchange Rate"),
        isBaseCurrency=FieldSpec("bool", "Base Currency"),
    )),
    "department": RecordSpec("department", _common(name=_text("Name", mandatory=True))),
    "classification": RecordSpec("classification", _common(name=_text("Name", mandatory=True))),
    "location": RecordSpec("location", _common(
        name=_text("Name", mandatory=True),
        subsidiary=_ref("Subsidiary", "subsidiary"),
    )),
    "account": RecordSpec("account", _common(
        acctName=_text("Name", mandatory=True),
        acctNumber=_text("Number"),
        acctType=_select("Type", {"Bank": "Bank", "OthCurrAsset": "Other Current Asset"}),
        subsidiary=_ref("Subsidiary", "subsidiary"),
    )),
    "serviceItem": RecordSpec("serviceItem", _common(
        itemId=_text("Item Name/Number", mandatory=True),
        displayName=_text("Display Name"),
        description=_text("Description"),
    )),
    "customer": RecordSpec("customer", _common(
        entityId=_text("Customer ID"),
        companyName=_text("Company Name", mandatory=True),
        isPerson=FieldSpec("bool", "Type"),
        email=_text("Email"),
        subsidiary=_ref("Primary Subsidiary", "subsidiary", mandatory=True),
        currency=_ref("Currency", "currency"),
        entityStatus=_select("Status", CUSTOMER_STAGE),
        custentity_eg_tax_jurisdiction=_text("Tax Jurisdiction"),
        custentity_eg_status=_text("Customer Master Status", allowed=CUSTOMER_STATUSES),
        dateCreated=FieldSpec("datetime", "Date Created", read_only=True),
    ), id_space="entity"),
    "job": RecordSpec("job", _common(
        entityId=_text("Project ID"),
        companyName=_text("Project Name", mandatory=True),
        parent=_ref("Customer", "customer", mandatory=True),
        subsidiary=_ref("Subsidiary", "subsidiary", mandatory=True),
        currency=_ref("Currency", "currency"),
        department=_ref("Department", "department"),
        **{"class": _ref("Class", "classification")},
        location=_ref("Location", "location"),
        startDate=FieldSpec("date", "Start Date"),
        projectedEndDate=FieldSpec("date", "Projected End Date"),
        entityStatus=_select("Status", PROJECT_STATUS),
        custentity_eg_billing_model=_text("Billing Model", allowed=BILLING_MODELS),
        custentity_eg_rate_card_version=_text("Rate Card Version"),
        custentity_eg_nte=FieldSpec("money", "Not To Exceed"),
        dateCreated=FieldSpec("datetime", "Date Created", read_only=True),
    ), id_space="entity"),
    "billingSchedule": RecordSpec("billingSchedule", _common(
        name=_text("Name", mandatory=True),
        scheduleType=_select("Schedule Type", SCHEDULE_TYPES),
        frequency=_select("Frequency", FREQUENCIES),
        project=_ref("Project", "job", mandatory=True),
        currency=_ref("Currency", "currency", ro=True),
        custrecord_eg_engagement_key=_text("Engagement Key"),
    ), sublists={"recurrence": {
        "recurrenceDate": FieldSpec("date", "Date", mandatory=True),
        "amount": FieldSpec("money", "Amount"),
        "comment": _text("Comment"),
    }}),
    "invoice": RecordSpec("invoice", _common(
        entity=_ref("Customer", "customer", "job", mandatory=True),
        job=_ref("Project", "job"),
        tranId=_text("Invoice #"),
        tranDate=FieldSpec("date", "Date"),
        dueDate=FieldSpec("date", "Due Date"),
        subsidiary=_ref("Subsidiary", "subsidiary"),
        currency=_ref("Currency", "currency"),
        department=_ref("Department", "department"),
        **{"class": _ref("Class", "classification")},
        location=_ref("Location", "location"),
        memo=_text("Memo"),
        custbody_eg_engagement_key=_text("Engagement Key"),
        exchangeRate=FieldSpec("number", "Exchange Rate", read_only=True),
        total=FieldSpec("money", "Total", read_only=True),
        amountRemaining=FieldSpec("money", "Amount Remaining", read_only=True),
        status=_select("Status", INVOICE_STATUS, ro=True),
        createdDate=FieldSpec("datetime", "Date Created", read_only=True),
    ), sublists={"item": {
        "line": FieldSpec("integer", "Line", read_only=True),
        "item": _ref("Item", "serviceItem", mandatory=True),
        "description": _text("Description"),
        "quantity": FieldSpec("number", "Quantity"),
        "rate": FieldSpec("rate", "Rate"),
        "amount": FieldSpec("money", "Amount"),
        "custcol_eg_sources": _text("Billed Sources"),
    }}, id_space="transaction"),
    "customerPayment": RecordSpec("customerPayment", _common(
        customer=_ref("Customer", "customer", mandatory=True),
        tranId=_text("Payment #"),
        tranDate=FieldSpec("date", "Date"),
        payment=FieldSpec("money", "Payment Amount", mandatory=True),
        currency=_ref("Currency", "currency"),
        subsidiary=_ref("Subsidiary", "subsidiary"),
        account=_ref("Account", "account"),
        undepFunds=FieldSpec("bool", "Undeposited Funds"),
        memo=_text("Memo"),
        custbody_eg_engagement_key=_text("Engagement Key"),
        status=_select("Status", PAYMENT_STATUS, ro=True),
        createdDate=FieldSpec("datetime", "Date Created", read_only=True),
    ), sublists={"apply": {
        "line": FieldSpec("integer", "Line", read_only=True),
        "doc": _ref("Invoice", "invoice", mandatory=True),
        "apply": FieldSpec("bool", "Apply"),
        "amount": FieldSpec("money", "Payment"),
    }}, id_space="transaction"),
}  # fmt: skip


def spec_for(record_type: str) -> RecordSpec | None:
    """The spec of a record type; NetSuite record type names are case-insensitive."""
    spec = SPECS.get(record_type)
    if spec is not None:
        return spec
    lowered = record_type.lower()
    return next((s for name, s in SPECS.items() if name.lower() == lowered), None)
