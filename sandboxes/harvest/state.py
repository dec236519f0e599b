"""The Harvest account's records, built from the demo firm.

Harvest ids are integers minted deterministically: each resource has a base
number and records are numbered in the order of their natural keys (customer
key, engagement key, person key, time entry key...). Records created through
the API continue from the highest id. The state lives for the process (or
until ``POST /__sandbox/reset``, which builds it again from the firm).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sandboxes.firm import Firm
from sandboxes.harvest.records import (
    ApprovalStatus,
    ClientRec,
    ExpenseCategoryRec,
    ExpenseRec,
    ExternalRef,
    InvoiceLineRec,
    InvoiceRec,
    InvoiceRef,
    ProjectRec,
    TaskRec,
    TimeEntryRec,
    UserRec,
)

__all__ = ["EXTERNAL_SERVICE", "HarvestState", "IdBase"]

EXTERNAL_SERVICE = "psa.northwind.example"


@dataclass(frozen=True, slots=True)
class IdBase:
    client: int = 5_735_000
    project: int = 14_308_000
    user: int = 1_782_000
    task: int = 8_083_000
    category: int = 4_195_000
    time_entry: int = 636_700_000
    expense: int = 15_290_000
    invoice: int = 28_150_000


def _at(day: date, hour: int, seconds: int = 0) -> datetime:
    return datetime.combine(day, time(hour), UTC) + timedelta(seconds=seconds)


class HarvestState:
    """Every record of one Harvest account, keyed by id."""

    def __init__(self, firm: Firm, ids: IdBase = IdBase()) -> None:
        self.ceiling = _at(firm.as_of, 23, 3599)
        self.company_name = _company_name(firm)
        self.clients: dict[int, ClientRec] = {}
        self.projects: dict[int, ProjectRec] = {}
        self.users: dict[int, UserRec] = {}
        self.tasks: dict[int, TaskRec] = {}
        self.categories: dict[int, ExpenseCategoryRec] = {}
        self.time_entries: dict[int, TimeEntryRec] = {}
        self.expenses: dict[int, ExpenseRec] = {}
        self.invoices: dict[int, InvoiceRec] = {}
        opened = _at(firm.as_of - timedelta(days=400), 9)
        rates = {
            (r.role, r.currency): r.bill_rate
            for r in sorted(firm.rate_card, key=lambda r: r.version)
        }

        client_ids: dict[str, int] = {}
        for n, customer in enumerate(sorted(firm.customers, key=lambda c: c.key), start=1):
            client_ids[customer.key] = ids.client + n
            key = hashlib.sha1(customer.key.encode()).hexdigest()[:20]
            self.clients[ids.client + n] = ClientRec(
                ids.client + n, customer.name, customer.status == "ACTIVE", customer.currency,
                key, opened, opened,
            )  # fmt: skip

        user_ids: dict[str, int] = {}
        for n, person in enumerate(sorted(firm.people, key=lambda p: p.key), start=1):
            user_ids[person.key] = ids.user + n
            self.users[ids.user + n] = UserRec(
                id=ids.user + n,
                first_name=person.first_name,
                last_name=person.last_name,
                email=person.email,
                is_active=person.is_active,
                is_contractor=person.is_contractor,
                weekly_capacity=person.weekly_capacity_hours * 3600,
                default_hourly_rate=rates.get((person.role, person.currency)),
                cost_rate=person.cost_rate,
                roles=[person.role],
                access_roles=["administrator"] if n == 1 else ["member"],
                created_at=opened,
                updated_at=opened,
            )
        self.me = ids.user + 1

        project_ids: dict[str, int] = {}
        engagements = [e for e in firm.engagements if "harvest" in e.present_in]
        for n, eng in enumerate(sorted(engagements, key=lambda e: e.key), start=1):
            project_ids[eng.key] = ids.project + n
            monthly = eng.billing_model in ("RETAINER", "SUBSCRIPTION")
            created = min(_at(eng.start_date, 8), self.ceiling)
            finished = eng.status == "COMPLETED"
            self.projects[ids.project + n] = ProjectRec(
                id=ids.project + n,
                client_id=client_ids[eng.customer],
                name=eng.name,
                code=eng.key,
                is_active=not finished,
                is_billable=True,
                is_fixed_fee=eng.billing_model == "FIXED_FEE",
                bill_by="People" if eng.billing_model == "TIME_AND_MATERIALS" else "Project",
                budget=eng.monthly_fee if monthly else eng.contract_value,
                budget_by="project_cost",
                budget_is_monthly=monthly,
                hourly_rate=None,
                fee=eng.contract_value if eng.billing_model == "FIXED_FEE" else None,
                starts_on=eng.start_date,
                ends_on=eng.end_date,
                created_at=created,
                updated_at=min(_at(eng.end_date, 18), self.ceiling) if finished else created,
            )

        task_ids: dict[str, int] = {}
        for n, name in enumerate(sorted({t.task for t in firm.time_entries}), start=1):
            task_ids[name] = ids.task + n
            billable = name not in ("Internal review", "Pre-sales support")
            self.tasks[ids.task + n] = TaskRec(ids.task + n, name, billable, True, opened, opened)

        category_ids: dict[str, int] = {}
        for n, name in enumerate(sorted({x.category for x in firm.expenses}), start=1):
            category_ids[name] = ids.category + n
            self.categories[ids.category + n] = ExpenseCategoryRec(
                ids.category + n, name, True, opened, opened
            )

        invoices: dict[str, tuple[InvoiceRef, datetime]] = {}
        for n, inv in enumerate(sorted(firm.invoices, key=lambda i: i.key), start=1):
            invoices[inv.key] = (InvoiceRef(ids.invoice + n, inv.key), _at(inv.tran_date, 10))

        week_ago = firm.as_of - timedelta(days=7)
        account = self.company_name.split()[0].lower()  # the PSA account the refs point at
        for n, te in enumerate(sorted(firm.time_entries, key=lambda t: t.key), start=1):
            project_id = project_ids.get(te.engagement_key)
            if project_id is None:
                continue
            created = _at(te.spent_date, 17, n % 3600)
            invoice = invoices.get(te.invoice) if te.invoice else None
            updated = _updated(created, te.approved, invoice, self.ceiling)
            self.time_entries[ids.time_entry + n] = TimeEntryRec(
                id=ids.time_entry + n,
                spent_date=te.spent_date,
                user_id=user_ids[te.person],
                project_id=project_id,
                task_id=task_ids[te.task],
                hours=te.hours,
                notes=te.notes,
                billable=te.billable,
                approval_status=_approval(te.approved, te.spent_date, week_ago),
                invoice=invoice[0] if invoice else None,
                billable_rate=te.bill_rate if te.billable else None,
                cost_rate=te.cost_rate,
                external_reference=ExternalRef(
                    id=te.key,
                    group_id=te.engagement_key,
                    account_id=account,
                    permalink=f"https://{EXTERNAL_SERVICE}/time/{te.key}",
                    service=EXTERNAL_SERVICE,
                ),
                created_at=created,
                updated_at=updated,
            )

        for n, ex in enumerate(sorted(firm.expenses, key=lambda x: x.key), start=1):
            project_id = project_ids.get(ex.engagement_key)
            if project_id is None:
                continue
            created = _at(ex.spent_date, 19, n % 3600)
            invoice = invoices.get(ex.invoice) if ex.invoice else None
            self.expenses[ids.expense + n] = ExpenseRec(
                id=ids.expense + n,
                spent_date=ex.spent_date,
                user_id=user_ids[ex.person],
                project_id=project_id,
                category_id=category_ids[ex.category],
                total_cost=ex.amount,
                notes=ex.notes,
                billable=ex.billable,
                approval_status=_approval(ex.approved, ex.spent_date, week_ago),
                invoice=invoice[0] if invoice else None,
                created_at=created,
                updated_at=_updated(created, ex.approved, invoice, self.ceiling),
            )

        self._seed_invoices(firm, invoices, project_ids, client_ids)
        self._last_stamp = self.ceiling  # no seeded timestamp is later
        self._next_time_entry = max(self.time_entries, default=ids.time_entry) + 1
        self._next_expense = max(self.expenses, default=ids.expense) + 1
        self._next_invoice = max(self.invoices, default=ids.invoice) + 1
        self._next_invoice_line = 1

    def _seed_invoices(
        self,
        firm: Firm,
        refs: dict[str, tuple[InvoiceRef, datetime]],
        project_ids: dict[str, int],
        client_ids: dict[str, int],
    ) -> None:
        """The firm's invoices of Harvest projects, one line per invoice line."""
        for invoice in firm.invoices:
            project_id = project_ids.get(invoice.engagement_key)
            if project_id is None:
                continue
            ref, stamp = refs[invoice.key]
            lines = [
                InvoiceLineRec(
                    id=ref.id * 10 + n,
                    project_id=project_id,
                    kind="Product" if line.item == "EXPENSE" else "Service",
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.rate,
                    amount=line.amount,
                )
                for n, line in enumerate(invoice.lines)
            ]
            created = min(stamp, self.ceiling)
            self.invoices[ref.id] = InvoiceRec(
                id=ref.id,
                client_id=client_ids[invoice.customer],
                number=invoice.key,
                currency=invoice.currency,
                issue_date=invoice.tran_date,
                due_date=invoice.due_date,
                state="paid" if invoice.status == "paid" else "open",
                line_items=lines,
                created_at=created,
                updated_at=created,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
            )

    def stamp(self) -> datetime:
        """A write's timestamp: wall-clock seconds, strictly after every earlier stamp."""
        now = datetime.now(UTC).replace(microsecond=0)
        self._last_stamp = max(now, self._last_stamp + timedelta(seconds=1))
        return self._last_stamp

    def new_time_entry_id(self) -> int:
        self._next_time_entry += 1
        return self._next_time_entry - 1

    def new_invoice_id(self) -> int:
        self._next_invoice += 1
        return self._next_invoice - 1

    def new_invoice_line_id(self) -> int:
        self._next_invoice_line += 1
        return self._next_invoice_line - 1

    def new_expense_id(self) -> int:
        self._next_expense += 1
        return self._next_expense - 1


def _approval(approved: bool, spent: date, week_ago: date) -> ApprovalStatus:
    if approved:
        return "approved"
    return "unsubmitted" if spent > week_ago else "submitted"


def _updated(
    created: datetime,
    approved: bool,
    invoice: tuple[InvoiceRef, datetime] | None,
    ceiling: datetime,
) -> datetime:
    stamp = created
    if approved:
        stamp = created + timedelta(days=2, hours=1)
    if invoice is not None:
        stamp = max(stamp, invoice[1])
    return max(created, min(stamp, ceiling))


def _company_name(firm: Firm) -> str:
    """The words every legal entity's name starts with ("Northwind Consulting")."""
    names = [entity.name.split() for entity in firm.legal_entities]
    common: list[str] = []
    for words in zip(*names, strict=False):
        if len(set(words)) != 1:
            break
        common.append(words[0])
    return " ".join(common) or "Demo Firm"
