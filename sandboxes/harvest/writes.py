"""Harvest's write rules for time entries and expenses.

- Create needs ``project_id``, ``task_id`` (time) or ``expense_category_id``
  (expense) and ``spent_date``; the project must exist and be active. Harvest
  has no idempotency key and no upsert: posting the same
  ``external_reference`` twice creates two entries (dedupe by looking up
  ``external_reference_id`` first).
- Approved (``is_closed``) or invoiced records are locked: any other PATCH or
  a DELETE is a 422.
- Approval (unverified): Harvest's public API has no approval endpoint; the
  sandbox models it as ``PATCH /v2/time_entries/{id} {"is_closed": true}``
  (and the same on ``/v2/expenses/{id}``). Approving sets ``is_closed``,
  ``is_locked``, ``locked_reason`` and ``approval_status: "approved"``;
  approving an approved record is a no-op 200 (``updated_at`` unchanged);
  approving an invoiced one is a 422.
- Rejection (unverified, same convention): ``{"is_closed": false}`` sends a
  submitted record back to ``unsubmitted``; an unsubmitted one is left as it
  is (no-op 200); an approved or invoiced (locked) one is a 422. Harvest has
  no field for a rejection reason.
- Every write that changes a record stamps ``updated_at`` (strictly later
  than any earlier stamp, so ``updated_since`` polling sees it).
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

from sandboxes.harvest.body import Body
from sandboxes.harvest.errors import message
from sandboxes.harvest.records import ExpenseRec, ProjectRec, TimeEntryRec
from sandboxes.harvest.state import HarvestState

__all__ = [
    "EXPENSE_FIELDS",
    "EXPENSE_PATCH_FIELDS",
    "TIME_ENTRY_FIELDS",
    "TIME_ENTRY_PATCH_FIELDS",
    "create_expense",
    "create_time_entry",
    "refuse_if_locked",
    "update_expense",
    "update_time_entry",
]

TIME_ENTRY_FIELDS = frozenset(
    {"project_id", "task_id", "spent_date", "user_id", "hours", "notes", "external_reference"}
)
TIME_ENTRY_PATCH_FIELDS = (TIME_ENTRY_FIELDS - {"user_id"}) | {"is_closed"}
EXPENSE_FIELDS = frozenset(
    {"project_id", "expense_category_id", "spent_date", "user_id", "total_cost", "notes",
     "billable"}
)  # fmt: skip
EXPENSE_PATCH_FIELDS = (EXPENSE_FIELDS - {"user_id"}) | {"is_closed"}
_ZERO, _DAY = Decimal(0), Decimal(24)


def _project(state: HarvestState, project_id: int | None) -> ProjectRec | None:
    if project_id is None:
        return None
    project = state.projects.get(project_id)
    if project is None:
        raise message(422, f"Project {project_id} not found")
    if not project.is_active:
        raise message(422, "Project is archived")
    return project


def _check_refs(state: HarvestState, body: Body) -> None:
    task_id = body.integer("task_id")
    if task_id is not None and task_id not in state.tasks:
        raise message(422, f"Task {task_id} not found")
    user_id = body.integer("user_id")
    if user_id is not None and user_id not in state.users:
        raise message(422, f"User {user_id} not found")
    category_id = body.integer("expense_category_id")
    if category_id is not None and category_id not in state.categories:
        raise message(422, f"Expense category {category_id} not found")


def refuse_if_locked(record: TimeEntryRec | ExpenseRec, kind: str) -> None:
    if record.is_locked:
        raise message(422, f"This {kind} is locked ({record.locked_reason}) and can't be changed")


def create_time_entry(state: HarvestState, body: Body) -> TimeEntryRec:
    project = _project(state, body.integer("project_id", required=True))
    task_id = body.integer("task_id", required=True)
    spent_date = body.day("spent_date", required=True)
    hours = body.number("hours", low=_ZERO, high=_DAY)
    _check_refs(state, body)
    assert project is not None and task_id is not None and spent_date is not None
    user = state.users[body.integer("user_id") or state.me]
    billable = project.is_billable and state.tasks[task_id].billable_by_default
    now = state.stamp()
    entry = TimeEntryRec(
        id=state.new_time_entry_id(),
        spent_date=spent_date,
        user_id=user.id,
        project_id=project.id,
        task_id=task_id,
        hours=hours if hours is not None else Decimal("0.0"),
        notes=body.text("notes"),
        billable=billable,
        approval_status="unsubmitted",
        invoice=None,
        billable_rate=(project.hourly_rate or user.default_hourly_rate) if billable else None,
        cost_rate=user.cost_rate,
        external_reference=body.external_reference("external_reference"),
        created_at=now,
        updated_at=now,
        is_running=hours is None,
        timer_started_at=now if hours is None else None,
    )
    state.time_entries[entry.id] = entry
    return entry


def update_time_entry(state: HarvestState, entry: TimeEntryRec, body: Body) -> TimeEntryRec:
    body.not_blank("project_id", "task_id", "spent_date", "hours", "is_closed")
    project = _project(state, body.integer("project_id"))
    _check_refs(state, body)
    spent_date = body.day("spent_date")
    hours = body.number("hours", low=_ZERO, high=_DAY)
    notes = body.text("notes")
    reference = body.external_reference("external_reference")
    approve = body.boolean("is_closed")
    if body.fields() - {"is_closed"} or approve is False:
        refuse_if_locked(entry, "time entry")
    if approve and entry.is_billed:
        raise message(422, "An invoiced time entry can't be approved")
    before = _snapshot(entry)
    if project is not None:
        entry.project_id = project.id
    task_id = body.integer("task_id")
    if task_id is not None:
        entry.task_id = task_id
    if spent_date is not None:
        entry.spent_date = spent_date
    if hours is not None:
        entry.hours = hours
    if "notes" in body:
        entry.notes = notes
    if "external_reference" in body:
        entry.external_reference = reference
    _set_approval(entry, approve)
    if _snapshot(entry) != before:
        entry.updated_at = state.stamp()
    return entry


def _set_approval(record: TimeEntryRec | ExpenseRec, approve: bool | None) -> None:
    if approve:
        record.approval_status = "approved"
    elif approve is False and record.approval_status == "submitted":
        record.approval_status = "unsubmitted"


def create_expense(state: HarvestState, body: Body) -> ExpenseRec:
    project = _project(state, body.integer("project_id", required=True))
    category_id = body.integer("expense_category_id", required=True)
    spent_date = body.day("spent_date", required=True)
    total_cost = body.number("total_cost", low=_ZERO)
    _check_refs(state, body)
    if total_cost is None:
        raise message(422, "total_cost is required (this category has no unit price)")
    assert project is not None and category_id is not None and spent_date is not None
    billable = body.boolean("billable")
    now = state.stamp()
    expense = ExpenseRec(
        id=state.new_expense_id(),
        spent_date=spent_date,
        user_id=body.integer("user_id") or state.me,
        project_id=project.id,
        category_id=category_id,
        total_cost=total_cost,
        notes=body.text("notes"),
        billable=project.is_billable if billable is None else billable,
        approval_status="unsubmitted",
        invoice=None,
        created_at=now,
        updated_at=now,
    )
    state.expenses[expense.id] = expense
    return expense


def update_expense(state: HarvestState, expense: ExpenseRec, body: Body) -> ExpenseRec:
    body.not_blank(
        "project_id", "expense_category_id", "spent_date", "total_cost", "billable", "is_closed"
    )
    project = _project(state, body.integer("project_id"))
    _check_refs(state, body)
    spent_date = body.day("spent_date")
    total_cost = body.number("total_cost", low=_ZERO)
    notes = body.text("notes")
    billable = body.boolean("billable")
    approve = body.boolean("is_closed")
    if body.fields() - {"is_closed"} or approve is False:
        refuse_if_locked(expense, "expense")
    if approve and expense.is_billed:
        raise message(422, "An invoiced expense can't be approved")
    before = _snapshot(expense)
    if project is not None:
        expense.project_id = project.id
    category_id = body.integer("expense_category_id")
    if category_id is not None:
        expense.category_id = category_id
    if spent_date is not None:
        expense.spent_date = spent_date
    if total_cost is not None:
        expense.total_cost = total_cost
    if "notes" in body:
        expense.notes = notes
    if billable is not None:
        expense.billable = billable
    _set_approval(expense, approve)
    if _snapshot(expense) != before:
        expense.updated_at = state.stamp()
    return expense


def _snapshot(record: TimeEntryRec | ExpenseRec) -> tuple[object, ...]:
    return tuple(getattr(record, f.name) for f in fields(record) if f.name != "updated_at")
