"""The demo firm: vendor-neutral facts the four sandboxes are seeded from.

A `Firm` is what really happened at a professional-services firm over twelve
months. Each sandbox renders the part its vendor owns into its own wire shapes
and mints its own record ids; the systems share only natural keys (customer
keys such as ``CUST-0007``, engagement keys such as ``ENG-2026-00042``, time
entry references such as ``TE-000123``), exactly as real systems linked by
external IDs do. The planted discrepancies are listed in ``Firm.discrepancies``.

This module belongs to the sandboxes: it imports nothing from the product.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

__all__ = [
    "Assignment",
    "BillingModel",
    "BillingSchedule",
    "BillingScheduleLine",
    "Customer",
    "Department",
    "Discrepancy",
    "Engagement",
    "Expense",
    "Firm",
    "Invoice",
    "InvoiceLine",
    "LegalEntity",
    "Location",
    "Milestone",
    "Opportunity",
    "Payment",
    "Person",
    "RateCardRate",
    "ServiceLine",
    "TimeEntry",
]

BillingModel = Literal["TIME_AND_MATERIALS", "FIXED_FEE", "MILESTONE", "RETAINER", "SUBSCRIPTION"]
OpportunityStage = Literal[
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]


@dataclass(frozen=True, slots=True)
class LegalEntity:
    code: str  # "US", "UK", "DE"
    name: str  # "Northwind Consulting Inc."
    country: str  # ISO 3166 alpha-2: "US", "GB", "DE"
    currency: str  # ISO 4217: "USD", "GBP", "EUR"
    tax_jurisdiction: str


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Location:
    code: str
    name: str
    legal_entity: str


@dataclass(frozen=True, slots=True)
class ServiceLine:
    code: str  # "STRATEGY", "CLOUD", ...
    name: str
    department: str  # Department.code
    class_code: str  # ERP classification
    project_template: str  # PSA template name
    roles: tuple[str, ...]  # roles the service line staffs


@dataclass(frozen=True, slots=True)
class RateCardRate:
    version: str  # "RC-2025", "RC-2026"
    role: str
    currency: str
    bill_rate: Decimal  # per hour, in currency


@dataclass(frozen=True, slots=True)
class Person:
    key: str  # "P-0001"
    first_name: str
    last_name: str
    email: str
    role: str
    legal_entity: str
    cost_rate: Decimal  # per hour, in the legal entity's currency
    currency: str
    weekly_capacity_hours: int
    is_contractor: bool
    is_active: bool


@dataclass(frozen=True, slots=True)
class Customer:
    key: str  # "CUST-0001" - the ERP externalId and the CRM's link
    name: str
    legal_entity: str
    currency: str
    status: Literal["ACTIVE", "ON_HOLD", "PROSPECT"]
    tax_jurisdiction: str | None  # None: master data incomplete
    industry: str
    email: str


@dataclass(frozen=True, slots=True)
class Opportunity:
    key: str  # "OPP-00001"
    engagement_key: str  # every opportunity carries its future engagement key
    customer: str  # Customer.key
    name: str
    stage: OpportunityStage
    amount: Decimal
    currency: str
    close_date: date
    probability: int
    billing_model: BillingModel
    service_line: str
    legal_entity: str
    rate_card_version: str
    owner: str  # e-mail of the account executive
    invoiced_amount: Decimal  # what the CRM believes has been invoiced


@dataclass(frozen=True, slots=True)
class Engagement:
    key: str  # "ENG-2026-00042"
    opportunity: str  # Opportunity.key
    customer: str
    legal_entity: str
    currency: str
    name: str
    billing_model: BillingModel
    service_line: str
    rate_card_version: str
    status: Literal["ACTIVE", "COMPLETED"]
    start_date: date
    end_date: date
    contract_value: Decimal
    not_to_exceed: Decimal | None
    department: str
    class_code: str
    location: str
    monthly_fee: Decimal | None  # retainer / subscription
    # systems that hold the project; a won deal never activated lacks "kantata"/"netsuite"/"harvest"
    present_in: tuple[str, ...] = ("salesforce", "kantata", "harvest", "netsuite")


@dataclass(frozen=True, slots=True)
class Milestone:
    key: str  # "MS-00001"
    engagement_key: str
    title: str
    due_date: date
    amount: Decimal
    state: Literal["not started", "started", "completed"]
    accepted: bool
    invoice: str | None  # Invoice.key once billed


@dataclass(frozen=True, slots=True)
class Assignment:
    key: str  # "AS-00001"
    engagement_key: str
    person: str
    role: str
    allocation_percent: int
    start_date: date
    end_date: date


@dataclass(frozen=True, slots=True)
class TimeEntry:
    key: str  # "TE-000001" - Harvest external_reference.id
    engagement_key: str
    person: str
    spent_date: date
    hours: Decimal  # two decimals
    billable: bool
    approved: bool
    invoice: str | None  # Invoice.key once billed
    bill_rate: Decimal  # rate applied (per the rate card version used)
    rate_card_version: str  # version the rate was taken from
    cost_rate: Decimal
    task: str
    notes: str


@dataclass(frozen=True, slots=True)
class Expense:
    key: str  # "EX-00001"
    engagement_key: str
    person: str
    spent_date: date
    amount: Decimal
    currency: str
    category: str
    billable: bool
    approved: bool
    invoice: str | None
    notes: str


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    item: Literal["SERVICES", "MILESTONE", "RETAINER", "SUBSCRIPTION", "EXPENSE", "FIXED_FEE"]
    quantity: Decimal
    rate: Decimal
    amount: Decimal
    sources: tuple[str, ...]  # TimeEntry/Expense/Milestone keys the line bills


@dataclass(frozen=True, slots=True)
class Invoice:
    key: str  # "INV-ENG-2026-00042-2026-05" - the ERP externalId
    engagement_key: str
    customer: str
    legal_entity: str
    currency: str
    tran_date: date
    due_date: date
    period_start: date
    period_end: date
    lines: tuple[InvoiceLine, ...]
    total: Decimal
    amount_remaining: Decimal
    status: Literal["open", "paid"]


@dataclass(frozen=True, slots=True)
class Payment:
    key: str  # "PAY-00001"
    invoice: str
    customer: str
    date: date
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class BillingScheduleLine:
    date: date
    amount: Decimal
    description: str


@dataclass(frozen=True, slots=True)
class BillingSchedule:
    engagement_key: str
    kind: Literal["PERIODIC", "FIXED", "MILESTONE", "RECURRING"]
    frequency: Literal["MONTHLY", "NONE"]
    lines: tuple[BillingScheduleLine, ...]


DiscrepancyKind = Literal[
    "INVOICE_NOT_IN_CRM",
    "PROJECT_WITHOUT_BILLING_SCHEDULE",
    "APPROVED_TIME_UNBILLED_PAST_CUTOFF",
    "WRONG_RATE_CARD_VERSION",
    "DUPLICATE_ERP_CUSTOMER",
    "WON_OPPORTUNITY_WITHOUT_PROJECT",
    "AMOUNT_MISMATCH_CRM_ERP",
]


@dataclass(frozen=True, slots=True)
class Discrepancy:
    kind: DiscrepancyKind
    systems: tuple[str, ...]  # "salesforce", "kantata", "harvest", "netsuite"
    engagement_key: str | None
    records: tuple[str, ...]  # natural keys involved (invoice, time entry, customer keys)
    description: str


@dataclass(slots=True)
class Firm:
    seed: int
    as_of: date  # the day the data ends; fixed, never "today"
    legal_entities: list[LegalEntity] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    service_lines: list[ServiceLine] = field(default_factory=list)
    rate_card: list[RateCardRate] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    duplicate_customers: list[Customer] = field(default_factory=list)  # ERP-only twins
    opportunities: list[Opportunity] = field(default_factory=list)
    engagements: list[Engagement] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    time_entries: list[TimeEntry] = field(default_factory=list)
    expenses: list[Expense] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    billing_schedules: list[BillingSchedule] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
