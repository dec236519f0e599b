"""Ports: what the workflows need from each system, as Protocols.

Adapters satisfy these structurally. Batch reads are the rule: a resolver
level asks for many keys at once and an adapter turns that into a handful of
vendor calls (SOQL ``IN``, SuiteQL ``IN``, Kantata ``only=``, Harvest filters),
never one call per row. Batch reads return what exists; missing keys are
simply absent from the result (the caller decides whether that is NotFound).
Single reads raise `NotFound`. Writes take commands carrying idempotency keys
and are safe to retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from domain.commands import (
    AssignmentCreate,
    BillingScheduleCreate,
    CustomerUpsert,
    ErpProjectCreate,
    InvoiceMarking,
    InvoicePost,
    MilestoneCreate,
    OpportunityUpdate,
    PaymentRecord,
    ProjectCreate,
)
from domain.health import BreakerState, SystemHealth
from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import (
    Account,
    Assignment,
    BillingSchedule,
    Customer,
    ErpProject,
    Expense,
    Invoice,
    InvoiceLine,
    Ledger,
    LegalEntity,
    Milestone,
    Opportunity,
    OpportunityLine,
    Payment,
    Person,
    Project,
    RateCard,
    TimeEntry,
    UninvoicedWork,
)
from domain.outcomes import Dimensions, MarkedWork

__all__ = ["CRM", "ERP", "PSA", "System", "TimeTracking"]


class System(Protocol):
    """What every adapter offers besides its domain calls."""

    name: str

    @property
    def breaker_state(self) -> BreakerState:
        """The circuit breaker's state for this system (VendorClient.breaker_state)."""
        ...

    async def health(self) -> SystemHealth: ...

    async def aclose(self) -> None: ...


class CRM(System, Protocol):
    async def get_opportunity(self, opportunity_id: RecordId) -> Opportunity: ...

    async def get_opportunities(self, ids: Sequence[RecordId]) -> list[Opportunity]: ...

    async def get_opportunities_by_engagement(
        self, keys: Sequence[EngagementKey]
    ) -> list[Opportunity]: ...

    async def list_opportunities(self, *, stage: str | None = None) -> list[Opportunity]: ...

    async def get_accounts(self, ids: Sequence[RecordId]) -> list[Account]: ...

    async def update_opportunity(
        self, opportunity_id: RecordId, update: OpportunityUpdate
    ) -> Opportunity:
        """Set the fields the update names (absolute values: safe to replay); a stage change
        re-derives is_won / is_closed and advances modified_at. Returns the record read back."""
        ...

    async def get_opportunity_lines(
        self, opportunity_ids: Sequence[RecordId]
    ) -> list[OpportunityLine]:
        """The dated commercial lines (milestones, instalments) of the opportunities,
        grouped by opportunity in request order, each group by service date."""
        ...


class PSA(System, Protocol):
    async def get_project(self, project_id: RecordId) -> Project: ...

    async def get_projects(self, ids: Sequence[RecordId]) -> list[Project]: ...

    async def get_projects_by_engagement(self, keys: Sequence[EngagementKey]) -> list[Project]: ...

    async def get_people(self, ids: Sequence[RecordId]) -> list[Person]: ...

    async def list_people(self) -> list[Person]: ...

    async def get_assignments(self, keys: Sequence[EngagementKey]) -> list[Assignment]: ...

    async def get_milestones(self, keys: Sequence[EngagementKey]) -> list[Milestone]: ...

    async def list_rate_cards(self) -> list[RateCard]: ...

    async def create_project(self, command: ProjectCreate) -> Project: ...

    async def archive_project(self, project_id: RecordId) -> Project:
        """Archive a project (the activation saga's compensation). Idempotent."""
        ...

    async def accept_milestone(self, milestone_id: RecordId) -> Milestone:
        """Record the customer's acceptance. Accepting an accepted milestone changes nothing."""
        ...

    async def assign_resource(self, command: AssignmentCreate) -> Assignment:
        """Staff a person on the engagement's project; a replay of the command's
        idempotency key returns the assignment made before and creates nothing.
        Raises NotFound when the engagement has no project."""
        ...

    async def list_allocations(self, date_from: date, date_to: date) -> list[Assignment]:
        """Every allocation overlapping [date_from, date_to], across all projects: one
        Assignment per allocation (a person staffed in two spans appears twice), with
        that allocation's dates and percent, for capacity checks."""
        ...

    async def create_milestone(self, command: MilestoneCreate) -> Milestone:
        """Create a milestone carrying `command.external_ref`; a replay returns the
        milestone carrying it and creates nothing. Raises NotFound when the engagement
        has no project."""
        ...


class TimeTracking(System, Protocol):
    async def get_time_entries(self, ids: Sequence[RecordId]) -> list[TimeEntry]: ...

    async def get_time_entries_by_engagement(
        self,
        keys: Sequence[EngagementKey],
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        billed: bool | None = None,
    ) -> list[TimeEntry]: ...

    async def get_expenses_by_engagement(
        self,
        keys: Sequence[EngagementKey],
        *,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[Expense]: ...

    async def list_people(self) -> list[Person]:
        """Every user of the time-tracking system; ids match TimeEntry.person_id."""
        ...

    async def get_uninvoiced(self, keys: Sequence[EngagementKey]) -> list[UninvoicedWork]:
        """Billable time and expenses recorded but not yet invoiced, per engagement.

        Engagements with nothing uninvoiced may be absent from the result.
        """
        ...

    async def approve_time_entries(self, ids: Sequence[RecordId]) -> list[TimeEntry]: ...

    async def reject_time_entries(self, ids: Sequence[RecordId], reason: str) -> list[TimeEntry]:
        """Send submitted entries back to their owner (approval UNSUBMITTED). Approved,
        locked or billed entries are refused (UpstreamRejected with the vendor's words).
        Rejecting twice is harmless. Systems without a reason field do not store `reason`:
        the caller keeps it (journal, event)."""
        ...

    async def approve_expenses(self, ids: Sequence[RecordId]) -> list[Expense]:
        """Approve expenses; approving an approved one is harmless, a billed one is refused."""
        ...

    async def mark_invoiced(self, command: InvoiceMarking) -> MarkedWork:
        """Mark the engagement's approved billable unbilled work of the window as invoiced
        under `command.number`. Idempotent by the number: a replay (also after a lost
        answer) marks nothing more and returns what carries the number."""
        ...


class ERP(System, Protocol):
    async def list_legal_entities(self) -> list[LegalEntity]: ...

    async def list_dimensions(self) -> Dimensions:
        """Departments, classes and locations by natural code -> ERP id (reference data)."""
        ...

    async def get_customers(self, ids: Sequence[RecordId]) -> list[Customer]: ...

    async def get_customers_by_key(self, keys: Sequence[CustomerKey]) -> list[Customer]: ...

    async def list_customers(self) -> list[Customer]: ...

    async def upsert_customer(self, command: CustomerUpsert) -> Customer:
        """Create or update the customer by its master key (external id): idempotent."""
        ...

    async def get_erp_projects_by_engagement(
        self, keys: Sequence[EngagementKey]
    ) -> list[ErpProject]: ...

    async def create_erp_project(self, command: ErpProjectCreate) -> ErpProject: ...

    async def create_billing_schedule(self, command: BillingScheduleCreate) -> BillingSchedule: ...

    async def get_billing_schedules_by_engagement(
        self, keys: Sequence[EngagementKey]
    ) -> list[BillingSchedule]: ...

    async def get_invoices(self, ids: Sequence[RecordId]) -> list[Invoice]: ...

    async def get_invoices_by_engagement(
        self, keys: Sequence[EngagementKey], *, with_lines: bool = True
    ) -> list[Invoice]:
        """The engagements' invoices; `with_lines=False` skips reading their lines."""
        ...

    async def get_invoice_lines(
        self, invoices: Sequence[tuple[RecordId, str]]
    ) -> dict[RecordId, tuple[InvoiceLine, ...]]:
        """The lines of invoices given as (id, currency) pairs, without re-reading headers."""
        ...

    async def post_invoice(self, command: InvoicePost) -> Invoice:
        """Post once: the external id and idempotency key make replays (concurrent ones
        too) resolve the invoice that exists instead of creating another."""
        ...

    async def get_payments_by_engagement(self, keys: Sequence[EngagementKey]) -> list[Payment]: ...

    async def get_ledger(self, keys: Sequence[EngagementKey]) -> Ledger:
        """Invoice headers (no lines) and payments (invoice_ids left empty) of the engagements,
        in one read."""
        ...

    async def get_payment_applications(
        self, payment_ids: Sequence[RecordId]
    ) -> dict[RecordId, tuple[RecordId, ...]]:
        """The invoices each payment was applied to."""
        ...

    async def record_payment(self, command: PaymentRecord) -> Payment:
        """Record a payment applied to one invoice, once per external id. More than the
        invoice's amount remaining is refused (UpstreamRejected)."""
        ...
