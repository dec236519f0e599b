"""Render the firm's CRM facts as Salesforce records (Users, Accounts, Opportunities,
OpportunityLineItems; delivery windows and lines from `sandboxes.salesforce.deal_terms`).

Ids are minted in firm order, so one firm always yields the same ids. Seeded
timestamps are derived from the firm's dates (never from the wall clock).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sandboxes.firm import Customer, Firm, Opportunity
from sandboxes.salesforce.deal_terms import delivery_windows, line_plan
from sandboxes.salesforce.schema import SCHEMAS, STAGES

if TYPE_CHECKING:
    from sandboxes.salesforce.state import OrgState, Record

__all__ = ["BILLING_MODEL_LABELS", "INTEGRATION_USERNAME", "load_firm"]

INTEGRATION_USERNAME = "integration@northwind.example"
BILLING_MODEL_LABELS: dict[str, str] = {
    "TIME_AND_MATERIALS": "Time and Materials",
    "FIXED_FEE": "Fixed Fee",
    "MILESTONE": "Milestone",
    "RETAINER": "Retainer",
    "SUBSCRIPTION": "Subscription",
}
_ACCOUNT_TYPE = {
    "ACTIVE": "Customer - Direct",
    "ON_HOLD": "Customer - Direct",
    "PROSPECT": "Prospect",
}


def _at(day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(8, 0), tzinfo=UTC) + timedelta(minutes=minutes)


def _stamps(state: OrgState, created: datetime, modified: datetime, user_id: str) -> Record:
    modified = max(created, modified)
    state.observe_stamp(modified)
    return {
        "IsDeleted": False,
        "CreatedDate": created,
        "CreatedById": user_id,
        "LastModifiedDate": modified,
        "LastModifiedById": user_id,
        "SystemModstamp": modified,
    }


def _load_users(state: OrgState, firm: Firm) -> dict[str, str]:
    """Users by e-mail: the integration user first, then every opportunity owner."""
    schema = SCHEMAS["user"]
    names = {p.email.lower(): (p.first_name, p.last_name) for p in firm.people}
    emails = [INTEGRATION_USERNAME]
    for opportunity in firm.opportunities:
        if opportunity.owner.lower() not in (e.lower() for e in emails):
            emails.append(opportunity.owner)
    created = _at(firm.as_of - timedelta(days=720), 0)
    by_email: dict[str, str] = {}
    for index, email in enumerate(emails):
        local = email.split("@", 1)[0].replace("_", ".").split(".")
        first, last = names.get(
            email.lower(),
            (" ".join(p.capitalize() for p in local[:-1]) or "Integration", local[-1].capitalize()),
        )
        record_id = state.ids.mint(schema.key_prefix)
        when = created + timedelta(minutes=index)
        state.insert(
            schema,
            {
                "Id": record_id,
                "Username": email.lower(),
                "FirstName": first,
                "LastName": last,
                "Name": f"{first} {last}".strip(),
                "Email": email,
                "IsActive": True,
                "CurrencyIsoCode": "USD",
                "CreatedDate": when,
                "LastModifiedDate": when,
                "SystemModstamp": when,
            },
        )
        state.observe_stamp(when)
        by_email[email.lower()] = record_id
    return by_email


def _account(state: OrgState, index: int, customer: Customer, owner: str, as_of: date) -> Record:
    created = _at(as_of - timedelta(days=700), index * 17)
    return {
        "Id": state.ids.mint(SCHEMAS["account"].key_prefix),
        "Name": customer.name,
        "Type": _ACCOUNT_TYPE[customer.status],
        "ParentId": None,
        "Industry": customer.industry,
        "OwnerId": owner,
        "CurrencyIsoCode": customer.currency,
        **_stamps(state, created, created + timedelta(days=30, minutes=index), owner),
        "Customer_Key__c": customer.key,
    }


def _opportunity(
    state: OrgState,
    index: int,
    opp: Opportunity,
    account_id: str | None,
    owner: str,
    as_of: date,
    window: tuple[date, date],
) -> Record:
    stage = STAGES[opp.stage]
    created = _at(min(opp.close_date, as_of) - timedelta(days=60), index % 480)
    modified = _at(min(opp.close_date, as_of), 480 + index % 480)
    return {
        "Id": state.ids.mint(SCHEMAS["opportunity"].key_prefix),
        "AccountId": account_id,
        "Name": opp.name,
        "Description": None,
        "StageName": opp.stage,
        "Amount": opp.amount,
        "Probability": opp.probability,
        "CloseDate": opp.close_date,
        "Type": "New Customer",
        "IsClosed": stage.is_closed,
        "IsWon": stage.is_won,
        "CurrencyIsoCode": opp.currency,
        "OwnerId": owner,
        **_stamps(state, created, modified, owner),
        "Engagement_Key__c": opp.engagement_key,
        "Billing_Model__c": BILLING_MODEL_LABELS[opp.billing_model],
        "Service_Line__c": opp.service_line,
        "Legal_Entity__c": opp.legal_entity,
        "Rate_Card_Version__c": opp.rate_card_version,
        "Invoiced_Amount__c": opp.invoiced_amount,
        "Start_Date__c": window[0],
        "End_Date__c": window[1],
    }


def _line_items(state: OrgState, opportunity: Record, window: tuple[date, date]) -> None:
    """Three dated lines splitting an open milestone deal's amount."""
    schema = SCHEMAS["opportunitylineitem"]
    for description, when, amount in line_plan(opportunity["Amount"], *window):
        state.insert(
            schema,
            {
                "Id": state.ids.mint(schema.key_prefix),
                "OpportunityId": opportunity["Id"],
                "Name": opportunity["Name"],
                "Description": description,
                "ServiceDate": when,
                "Quantity": Decimal(1),
                "UnitPrice": amount,
                "TotalPrice": amount,
                "CurrencyIsoCode": opportunity["CurrencyIsoCode"],
                "IsDeleted": False,
                "CreatedDate": opportunity["CreatedDate"],
                "CreatedById": opportunity["CreatedById"],
                "LastModifiedDate": opportunity["LastModifiedDate"],
                "LastModifiedById": opportunity["LastModifiedById"],
                "SystemModstamp": opportunity["SystemModstamp"],
            },
        )


def load_firm(state: OrgState, firm: Firm) -> str:
    """Insert the firm's CRM records; return the integration user's id."""
    users = _load_users(state, firm)
    integration = users[INTEGRATION_USERNAME]
    first_owner: dict[str, str] = {}
    for opp in firm.opportunities:
        first_owner.setdefault(opp.customer, users[opp.owner.lower()])
    accounts: dict[str, str] = {}
    for index, customer in enumerate(firm.customers):
        owner = first_owner.get(customer.key, integration)
        record = _account(state, index, customer, owner, firm.as_of)
        state.insert(SCHEMAS["account"], record)
        accounts[customer.key] = record["Id"]
    windows = delivery_windows(firm)
    open_milestone_deals: list[tuple[Record, tuple[date, date]]] = []
    for index, opp in enumerate(firm.opportunities):
        owner = users[opp.owner.lower()]
        window = windows[opp.key]
        record = _opportunity(
            state, index, opp, accounts.get(opp.customer), owner, firm.as_of, window
        )
        state.insert(SCHEMAS["opportunity"], record)
        if opp.billing_model == "MILESTONE" and not STAGES[opp.stage].is_closed:
            open_milestone_deals.append((record, window))
    for record, window in open_milestone_deals:  # after every opportunity: their ids stay put
        _line_items(state, record, window)
    return integration
