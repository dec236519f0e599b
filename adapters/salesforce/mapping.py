"""All Salesforce JSON ↔ canonical model mapping, in one place.

Reads: SOQL records (``attributes`` plus the selected fields, relationships
nested) become `Opportunity` / `Account`. Writes: commands become request
bodies of API field names (sent by `adapters.jsonwire`, exact Decimals). Vendor
picklist labels (``"Time and Materials"``) map to canonical enums here; an
unknown label maps to None rather than failing the whole read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from adapters.salesforce.commands import OpportunityUpsert
from adapters.salesforce.errors import SYSTEM
from domain.commands import OpportunityUpdate
from domain.errors import MappingFailed
from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import Account, BillingModel, Opportunity, OpportunityLine
from domain.money import Money

__all__ = [
    "ACCOUNT_FIELDS",
    "LINE_ITEM_FIELDS",
    "OPPORTUNITY_FIELDS",
    "account_from",
    "line_from",
    "opportunity_from",
    "update_body",
    "upsert_body",
]

OPPORTUNITY_FIELDS: tuple[str, ...] = (
    "Id", "Name", "AccountId", "StageName", "IsWon", "IsClosed", "Amount", "CloseDate",
    "Probability", "CurrencyIsoCode", "Engagement_Key__c", "Billing_Model__c",
    "Service_Line__c", "Legal_Entity__c", "Rate_Card_Version__c", "Invoiced_Amount__c",
    "Owner.Email", "Account.Name", "Account.Customer_Key__c", "Start_Date__c", "End_Date__c",
    "SystemModstamp",
)  # fmt: skip
LINE_ITEM_FIELDS: tuple[str, ...] = (
    "Id", "OpportunityId", "Description", "ServiceDate", "TotalPrice", "CurrencyIsoCode",
)  # fmt: skip
ACCOUNT_FIELDS: tuple[str, ...] = (
    "Id", "Name", "Industry", "CurrencyIsoCode", "Customer_Key__c", "SystemModstamp",
)  # fmt: skip

_BILLING_MODELS: dict[str, BillingModel] = {
    "Time and Materials": BillingModel.TIME_AND_MATERIALS,
    "Fixed Fee": BillingModel.FIXED_FEE,
    "Milestone": BillingModel.MILESTONE,
    "Retainer": BillingModel.RETAINER,
    "Subscription": BillingModel.SUBSCRIPTION,
}
_BILLING_LABELS = {model: label for label, model in _BILLING_MODELS.items()}


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # ...000+0000 -> ...000+00:00
    return datetime.fromisoformat(text)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _money(amount: Any, currency: str) -> Money | None:
    if amount is None:
        return None
    if isinstance(amount, float):
        raise TypeError("money arrived as a float")
    return Money.of(Decimal(str(amount)) if isinstance(amount, int) else amount, currency)


def _failed(kind: str, record: Mapping[str, Any], exc: Exception) -> MappingFailed:
    return MappingFailed(
        f"cannot map {kind} {record.get('Id', '?')}: {exc}",
        system=SYSTEM,
        vendor_message=str(exc),
    )


def opportunity_from(record: Mapping[str, Any], *, default_currency: str) -> Opportunity:
    try:
        currency = record.get("CurrencyIsoCode") or default_currency
        owner = record.get("Owner")
        account = record.get("Account")
        account = account if isinstance(account, dict) else {}
        customer_key = account.get("Customer_Key__c")
        probability = record.get("Probability")
        close = record.get("CloseDate")
        billing = record.get("Billing_Model__c")
        return Opportunity(
            id=RecordId(record["Id"]),
            engagement_key=EngagementKey(record["Engagement_Key__c"])
            if record.get("Engagement_Key__c")
            else None,
            account_id=RecordId(record["AccountId"]) if record.get("AccountId") else None,
            name=record["Name"],
            stage=record["StageName"],
            is_won=bool(record["IsWon"]),
            is_closed=bool(record["IsClosed"]),
            amount=_money(record.get("Amount"), currency),
            close_date=date.fromisoformat(close) if close else None,
            probability=int(probability) if probability is not None else None,
            billing_model=_BILLING_MODELS.get(billing) if billing else None,
            service_line=record.get("Service_Line__c"),
            legal_entity=record.get("Legal_Entity__c"),
            rate_card_version=record.get("Rate_Card_Version__c"),
            invoiced_amount=_money(record.get("Invoiced_Amount__c"), currency),
            owner=owner.get("Email") if isinstance(owner, dict) else None,
            customer_key=CustomerKey(customer_key) if customer_key else None,
            account_name=account.get("Name"),
            start_date=_date(record.get("Start_Date__c")),
            end_date=_date(record.get("End_Date__c")),
            modified_at=_datetime(record.get("SystemModstamp")),
        )
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise _failed("Opportunity", record, exc) from exc


def line_from(record: Mapping[str, Any], *, default_currency: str) -> OpportunityLine:
    """An OpportunityLineItem as a dated line; TotalPrice is the line's amount."""
    try:
        amount = _money(record["TotalPrice"], record.get("CurrencyIsoCode") or default_currency)
        if amount is None:
            raise ValueError("a line item without TotalPrice")
        return OpportunityLine(
            id=RecordId(record["Id"]),
            opportunity_id=RecordId(record["OpportunityId"]),
            description=record.get("Description") or "",
            service_date=_date(record.get("ServiceDate")),
            amount=amount,
        )
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise _failed("OpportunityLineItem", record, exc) from exc


def account_from(record: Mapping[str, Any]) -> Account:
    try:
        key = record.get("Customer_Key__c")
        return Account(
            id=RecordId(record["Id"]),
            name=record["Name"],
            customer_key=CustomerKey(key) if key else None,
            industry=record.get("Industry"),
            currency=record.get("CurrencyIsoCode"),
            modified_at=_datetime(record.get("SystemModstamp")),
        )
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise _failed("Account", record, exc) from exc


def update_body(update: OpportunityUpdate) -> dict[str, Any]:
    """PATCH body for the fields the update sets (absolute values only)."""
    body: dict[str, Any] = {}
    if update.stage is not None:
        body["StageName"] = update.stage
    if update.amount is not None:
        body["Amount"] = update.amount
    if update.invoiced_amount is not None:
        body["Invoiced_Amount__c"] = update.invoiced_amount
    return body


def upsert_body(command: OpportunityUpsert) -> dict[str, Any]:
    """Upsert body; never repeats the external-id field (Engagement_Key__c)."""
    pairs: list[tuple[str, Any]] = [
        ("Name", command.name),
        ("AccountId", command.account_id),
        ("StageName", command.stage),
        ("CloseDate", command.close_date),
        ("Amount", command.amount),
        ("CurrencyIsoCode", command.currency),
        ("Probability", command.probability),
        ("Billing_Model__c", _BILLING_LABELS[command.billing_model]
         if command.billing_model else None),
        ("Service_Line__c", command.service_line),
        ("Legal_Entity__c", command.legal_entity),
        ("Rate_Card_Version__c", command.rate_card_version),
        ("Invoiced_Amount__c", command.invoiced_amount),
    ]  # fmt: skip
    return {name: value for name, value in pairs if value is not None}
