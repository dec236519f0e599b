"""The org's metadata: which sObjects exist and what their fields are.

Field names are case-insensitive in SOQL and in request bodies; responses
always use the API name as declared here. ``Opportunity.IsWon`` and
``IsClosed`` are derived from the stage (see `STAGES`) and read-only.
``Start_Date__c`` / ``End_Date__c`` are the org's custom fields for the
contracted delivery window. ``OpportunityLineItem`` carries the dated
commercial lines of a deal (``ServiceDate``, ``TotalPrice``, ``Description``);
the sandbox has no price books, so ``PricebookEntryId``/``Product2Id`` are
absent and an insert needs only ``OpportunityId`` (a real org requires a
price book entry: unverified how the gateway would pick one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "CURRENCIES",
    "SCHEMAS",
    "STAGES",
    "FieldType",
    "SField",
    "SObjectSchema",
    "Stage",
    "schema_for",
]

FieldType = Literal[
    "id",
    "string",
    "textarea",
    "email",
    "picklist",
    "boolean",
    "currency",
    "double",
    "percent",
    "int",
    "date",
    "datetime",
    "reference",
]
STRING_TYPES: frozenset[str] = frozenset({"string", "textarea", "email", "picklist"})
NUMBER_TYPES: frozenset[str] = frozenset({"currency", "double", "percent", "int"})

CURRENCIES: tuple[str, ...] = ("USD", "GBP", "EUR")


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    probability: int
    is_closed: bool
    is_won: bool


STAGES: dict[str, Stage] = {
    s.name: s
    for s in (
        Stage("Prospecting", 10, False, False),
        Stage("Qualification", 10, False, False),
        Stage("Needs Analysis", 20, False, False),
        Stage("Value Proposition", 50, False, False),
        Stage("Id. Decision Makers", 60, False, False),
        Stage("Perception Analysis", 70, False, False),
        Stage("Proposal/Price Quote", 75, False, False),
        Stage("Negotiation/Review", 90, False, False),
        Stage("Closed Won", 100, True, True),
        Stage("Closed Lost", 0, True, False),
    )
}


@dataclass(frozen=True, slots=True)
class SField:
    name: str
    type: FieldType
    label: str
    writable: bool = True
    required: bool = False  # on insert, and may not be nulled on update
    length: int | None = None
    external_id: bool = False
    unique: bool = False
    reference_to: str | None = None
    relationship: str | None = None  # "Account" for AccountId
    restricted: tuple[str, ...] | None = None  # restricted picklist values

    @property
    def is_string(self) -> bool:
        return self.type in STRING_TYPES

    @property
    def is_number(self) -> bool:
        return self.type in NUMBER_TYPES


@dataclass(frozen=True, slots=True)
class SObjectSchema:
    name: str
    key_prefix: str
    label: str
    fields: tuple[SField, ...]
    createable: bool = True
    _by_name: dict[str, SField] = field(default_factory=dict, compare=False, repr=False)
    _by_relationship: dict[str, SField] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for f in self.fields:
            self._by_name[f.name.lower()] = f
            if f.relationship:
                self._by_relationship[f.relationship.lower()] = f

    def field(self, name: str) -> SField | None:
        return self._by_name.get(name.lower())

    def relationship(self, name: str) -> SField | None:
        return self._by_relationship.get(name.lower())

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


def _system_fields() -> tuple[SField, ...]:
    return (
        SField("IsDeleted", "boolean", "Deleted", writable=False),
        SField("CreatedDate", "datetime", "Created Date", writable=False),
        SField(
            "CreatedById", "reference", "Created By ID", writable=False,
            reference_to="User", relationship="CreatedBy",
        ),
        SField("LastModifiedDate", "datetime", "Last Modified Date", writable=False),
        SField(
            "LastModifiedById", "reference", "Last Modified By ID", writable=False,
            reference_to="User", relationship="LastModifiedBy",
        ),
        SField("SystemModstamp", "datetime", "System Modstamp", writable=False),
    )  # fmt: skip


_ID = SField("Id", "id", "Record ID", writable=False)
_CURRENCY = SField("CurrencyIsoCode", "picklist", "Currency ISO Code", restricted=CURRENCIES)
_OWNER = SField("OwnerId", "reference", "Owner ID", reference_to="User", relationship="Owner")

ACCOUNT = SObjectSchema(
    "Account",
    "001",
    "Account",
    (
        _ID,
        SField("Name", "string", "Account Name", required=True, length=255),
        SField("Type", "picklist", "Account Type"),
        SField(
            "ParentId", "reference", "Parent Account ID",
            reference_to="Account", relationship="Parent",
        ),
        SField("Industry", "picklist", "Industry"),
        _OWNER,
        _CURRENCY,
        *_system_fields(),
        SField("Customer_Key__c", "string", "Customer Key", length=20, external_id=True),
    ),
)  # fmt: skip

OPPORTUNITY = SObjectSchema(
    "Opportunity",
    "006",
    "Opportunity",
    (
        _ID,
        SField(
            "AccountId", "reference", "Account ID", reference_to="Account", relationship="Account"
        ),
        SField("Name", "string", "Name", required=True, length=120),
        SField("Description", "textarea", "Description", length=32000),
        SField("StageName", "picklist", "Stage", required=True, restricted=tuple(STAGES)),
        SField("Amount", "currency", "Amount"),
        SField("Probability", "percent", "Probability (%)"),
        SField("CloseDate", "date", "Close Date", required=True),
        SField("Type", "picklist", "Opportunity Type"),
        SField("IsClosed", "boolean", "Closed", writable=False),
        SField("IsWon", "boolean", "Won", writable=False),
        _CURRENCY,
        _OWNER,
        *_system_fields(),
        SField(
            "Engagement_Key__c", "string", "Engagement Key", length=20,
            external_id=True, unique=True,
        ),
        SField(
            "Billing_Model__c", "picklist", "Billing Model",
            restricted=("Time and Materials", "Fixed Fee", "Milestone", "Retainer", "Subscription"),
        ),
        SField("Service_Line__c", "string", "Service Line", length=40),
        SField("Legal_Entity__c", "string", "Legal Entity", length=10),
        SField("Rate_Card_Version__c", "string", "Rate Card Version", length=20),
        SField("Invoiced_Amount__c", "currency", "Invoiced Amount"),
        SField("Start_Date__c", "date", "Start Date"),
        SField("End_Date__c", "date", "End Date"),
    ),
)  # fmt: skip

OPPORTUNITY_LINE_ITEM = SObjectSchema(
    "OpportunityLineItem",
    "00k",
    "Opportunity Product",
    (
        _ID,
        SField(
            "OpportunityId", "reference", "Opportunity ID", required=True,
            reference_to="Opportunity", relationship="Opportunity",
        ),
        SField("Name", "string", "Opportunity Product Name", writable=False, length=376),
        SField("Description", "string", "Line Description", length=255),
        SField("ServiceDate", "date", "Date"),
        SField("Quantity", "double", "Quantity"),
        SField("UnitPrice", "currency", "Sales Price"),
        SField("TotalPrice", "currency", "Total Price"),
        SField("CurrencyIsoCode", "picklist", "Currency ISO Code", writable=False),
        *_system_fields(),
    ),
)  # fmt: skip

USER = SObjectSchema(
    "User",
    "005",
    "User",
    (
        _ID,
        SField("Username", "string", "Username", required=True, length=80),
        SField("FirstName", "string", "First Name", length=40),
        SField("LastName", "string", "Last Name", required=True, length=80),
        SField("Name", "string", "Full Name", writable=False, length=121),
        SField("Email", "email", "Email", required=True, length=128),
        SField("IsActive", "boolean", "Active"),
        _CURRENCY,
        SField("CreatedDate", "datetime", "Created Date", writable=False),
        SField("LastModifiedDate", "datetime", "Last Modified Date", writable=False),
        SField("SystemModstamp", "datetime", "System Modstamp", writable=False),
    ),
    createable=False,
)

SCHEMAS: dict[str, SObjectSchema] = {
    s.name.lower(): s for s in (ACCOUNT, OPPORTUNITY, OPPORTUNITY_LINE_ITEM, USER)
}


def schema_for(name: str) -> SObjectSchema | None:
    """The sObject named `name` (case-insensitive), or None."""
    return SCHEMAS.get(name.lower())
