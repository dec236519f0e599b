"""Records → Harvest v2 JSON objects (snake_case, integer ids, money as numbers).

Nested references are rendered from the live referenced record, so a renamed
project shows its new name on every time entry, as in Harvest.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sandboxes.harvest.records import (
    ClientRec,
    ExpenseCategoryRec,
    ExpenseRec,
    ExternalRef,
    InvoiceRef,
    ProjectRec,
    TaskRec,
    TimeEntryRec,
    UserRec,
)
from sandboxes.harvest.state import HarvestState

__all__ = [
    "company",
    "render_client",
    "render_expense",
    "render_expense_category",
    "render_project",
    "render_task",
    "render_time_entry",
    "render_user",
    "stamp",
]

Json = dict[str, Any]


def stamp(value: datetime | None) -> str | None:
    """Harvest's timestamp format: ``2024-05-20T09:12:03Z``."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def company(state: HarvestState) -> Json:
    slug = state.company_name.split()[0].lower() if state.company_name else "firm"
    return {
        "base_uri": f"https://{slug}.harvestapp.com",
        "full_domain": f"{slug}.harvestapp.com",
        "name": state.company_name,
        "is_active": True,
        "week_start_day": "Monday",
        "wants_timestamp_timers": False,
        "time_format": "decimal",
        "date_format": "%Y-%m-%d",
        "plan_type": "business",
        "clock": "24h",
        "currency_code_display": "iso_code_before",
        "currency_symbol_display": "symbol_before",
        "decimal_symbol": ".",
        "thousands_separator": ",",
        "color_scheme": "orange",
        "weekly_capacity": 144000,
        "expense_feature": True,
        "invoice_feature": True,
        "estimate_feature": True,
        "approval_feature": True,
        "team_feature": True,
        "saml_sign_in_required": False,
    }


def render_client(client: ClientRec) -> Json:
    return {
        "id": client.id,
        "name": client.name,
        "is_active": client.is_active,
        "address": None,
        "statement_key": client.statement_key,
        "currency": client.currency,
        "created_at": stamp(client.created_at),
        "updated_at": stamp(client.updated_at),
    }


def render_project(state: HarvestState, project: ProjectRec) -> Json:
    client = state.clients[project.client_id]
    return {
        "id": project.id,
        "name": project.name,
        "code": project.code,
        "is_active": project.is_active,
        "is_billable": project.is_billable,
        "is_fixed_fee": project.is_fixed_fee,
        "bill_by": project.bill_by,
        "budget": project.budget,
        "budget_by": project.budget_by,
        "budget_is_monthly": project.budget_is_monthly,
        "notify_when_over_budget": False,
        "over_budget_notification_percentage": 80,
        "show_budget_to_all": False,
        "cost_budget": None,
        "cost_budget_include_expenses": False,
        "hourly_rate": project.hourly_rate,
        "fee": project.fee,
        "notes": project.notes,
        "starts_on": _day(project.starts_on),
        "ends_on": _day(project.ends_on),
        "client": {"id": client.id, "name": client.name, "currency": client.currency},
        "created_at": stamp(project.created_at),
        "updated_at": stamp(project.updated_at),
    }


def render_user(user: UserRec) -> Json:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "telephone": "",
        "timezone": user.timezone,
        "has_access_to_all_future_projects": False,
        "is_contractor": user.is_contractor,
        "is_active": user.is_active,
        "weekly_capacity": user.weekly_capacity,
        "default_hourly_rate": user.default_hourly_rate,
        "cost_rate": user.cost_rate,
        "roles": list(user.roles),
        "access_roles": list(user.access_roles),
        "avatar_url": "https://d3s3969qhosaug.cloudfront.net/v2/user.png",
        "created_at": stamp(user.created_at),
        "updated_at": stamp(user.updated_at),
    }


def render_task(task: TaskRec) -> Json:
    return {
        "id": task.id,
        "name": task.name,
        "billable_by_default": task.billable_by_default,
        "default_hourly_rate": task.default_hourly_rate,
        "is_default": task.is_default,
        "is_active": task.is_active,
        "created_at": stamp(task.created_at),
        "updated_at": stamp(task.updated_at),
    }


def render_expense_category(category: ExpenseCategoryRec) -> Json:
    return {
        "id": category.id,
        "name": category.name,
        "unit_name": category.unit_name,
        "unit_price": category.unit_price,
        "is_active": category.is_active,
        "created_at": stamp(category.created_at),
        "updated_at": stamp(category.updated_at),
    }


def _external(ref: ExternalRef | None) -> Json | None:
    if ref is None:
        return None
    return {
        "id": ref.id,
        "group_id": ref.group_id,
        "account_id": ref.account_id,
        "permalink": ref.permalink,
        "service": ref.service,
        "service_icon_url": None,
    }


def _invoice(ref: InvoiceRef | None) -> Json | None:
    return None if ref is None else {"id": ref.id, "number": ref.number}


def _parties(state: HarvestState, user_id: int, project_id: int) -> Json:
    user = state.users[user_id]
    project = state.projects[project_id]
    client = state.clients[project.client_id]
    return {
        "user": {"id": user.id, "name": user.name},
        "client": {"id": client.id, "name": client.name, "currency": client.currency},
        "project": {"id": project.id, "name": project.name, "code": project.code},
    }


def render_time_entry(state: HarvestState, entry: TimeEntryRec) -> Json:
    task = state.tasks[entry.task_id]
    return {
        "id": entry.id,
        "spent_date": entry.spent_date.isoformat(),
        "hours": entry.hours,
        "hours_without_timer": entry.hours,
        "rounded_hours": entry.hours,
        "notes": entry.notes,
        "is_locked": entry.is_locked,
        "locked_reason": entry.locked_reason,
        "approval_status": entry.approval_status,
        "is_closed": entry.is_closed,
        "is_billed": entry.is_billed,
        "timer_started_at": stamp(entry.timer_started_at),
        "started_time": None,
        "ended_time": None,
        "is_running": entry.is_running,
        "billable": entry.billable,
        "budgeted": True,
        "billable_rate": entry.billable_rate,
        "cost_rate": entry.cost_rate,
        **_parties(state, entry.user_id, entry.project_id),
        "task": {"id": task.id, "name": task.name},
        "invoice": _invoice(entry.invoice),
        "external_reference": _external(entry.external_reference),
        "created_at": stamp(entry.created_at),
        "updated_at": stamp(entry.updated_at),
    }


def render_expense(state: HarvestState, expense: ExpenseRec) -> Json:
    category = state.categories[expense.category_id]
    return {
        "id": expense.id,
        "notes": expense.notes,
        "total_cost": expense.total_cost,
        "units": expense.units,
        "is_closed": expense.is_closed,
        "approval_status": expense.approval_status,
        "is_locked": expense.is_locked,
        "is_billed": expense.is_billed,
        "locked_reason": expense.locked_reason,
        "spent_date": expense.spent_date.isoformat(),
        "billable": expense.billable,
        "receipt": expense.receipt,
        **_parties(state, expense.user_id, expense.project_id),
        "expense_category": {
            "id": category.id,
            "name": category.name,
            "unit_price": category.unit_price,
            "unit_name": category.unit_name,
        },
        "invoice": _invoice(expense.invoice),
        "created_at": stamp(expense.created_at),
        "updated_at": stamp(expense.updated_at),
    }
