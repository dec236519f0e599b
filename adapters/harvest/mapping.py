"""Harvest v2 JSON ↔ canonical models: the one place Harvest field names live.

Numbers are read as Decimal (`decode` parses with ``parse_float=Decimal``).
Rates and amounts become `Money` in the client's currency (Harvest keeps no
currency on a time entry or expense; its client has one). Approval:
``is_closed`` true means approved; otherwise ``approval_status`` (optional in
Harvest's docs) tells submitted from unsubmitted. The engagement key is the
project ``code``, else the time entry's ``external_reference.group_id``.
An Uninvoiced report row's amounts are in its ``currency`` (its project's
client currency); its time amount is ``uninvoiced_amount`` less
``uninvoiced_expenses``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from adapters.harvest.commands import TimeEntryCreate
from adapters.harvest.errors import SYSTEM
from adapters.harvest.wire import Json
from domain.errors import MappingFailed
from domain.ids import EngagementKey, RecordId, is_engagement_key
from domain.models import ApprovalStatus, Expense, Person, TimeEntry, UninvoicedWork
from domain.money import Money

__all__ = [
    "ProjectRef",
    "expense_from_harvest",
    "person_from_harvest",
    "project_from_harvest",
    "task_id_by_name",
    "time_entry_from_harvest",
    "time_entry_to_harvest",
    "uninvoiced_by_engagement",
]


@dataclass(frozen=True, slots=True)
class ProjectRef:
    """What the adapter needs of a Harvest project to batch by engagement."""

    id: int
    code: str | None
    name: str
    currency: str | None


@contextmanager
def _mapping(what: str) -> Iterator[None]:
    try:
        yield
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise MappingFailed(f"cannot map {what}: {detail}", system=SYSTEM) from exc


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"expected a number, got {value!r}")
    return Decimal(value)


def _money(value: Any, currency: str) -> Money | None:
    return None if value is None else Money(amount=_decimal(value), currency=currency)


def _stamp(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _engagement(*candidates: Any) -> EngagementKey | None:
    for value in candidates:
        if isinstance(value, str) and is_engagement_key(value):
            return EngagementKey(value)
    return None


def project_from_harvest(obj: Json) -> ProjectRef:
    with _mapping(f"project {obj.get('id')}"):
        client = obj.get("client") or {}
        return ProjectRef(
            id=int(obj["id"]), code=obj["code"], name=obj["name"], currency=client.get("currency")
        )


def _approval(obj: Json) -> ApprovalStatus:
    if obj["is_closed"]:
        return ApprovalStatus.APPROVED
    if obj.get("approval_status") == "submitted":
        return ApprovalStatus.SUBMITTED
    return ApprovalStatus.UNSUBMITTED


def _invoice_ref(invoice: Any) -> str | None:
    if not invoice:
        return None
    return str(invoice.get("number") or invoice["id"])


def time_entry_from_harvest(obj: Json) -> TimeEntry:
    with _mapping(f"time entry {obj.get('id')}"):
        currency = obj["client"]["currency"]
        reference = obj.get("external_reference") or {}
        user = obj.get("user") or {}
        task = obj.get("task") or {}
        return TimeEntry(
            id=RecordId(str(obj["id"])),
            external_ref=reference.get("id"),
            engagement_key=_engagement(obj["project"].get("code"), reference.get("group_id")),
            person_id=RecordId(str(user["id"])) if user.get("id") is not None else None,
            person_name=user.get("name"),
            spent_date=date.fromisoformat(obj["spent_date"]),
            hours=_decimal(obj["hours"]),
            billable=bool(obj["billable"]),
            approval=_approval(obj),
            locked=bool(obj["is_locked"]),
            billed=bool(obj["is_billed"]),
            invoice_ref=_invoice_ref(obj.get("invoice")),
            bill_rate=_money(obj.get("billable_rate"), currency),
            cost_rate=_money(obj.get("cost_rate"), currency),
            task=task.get("name"),
            notes=obj.get("notes"),
            modified_at=_stamp(obj.get("updated_at")),
        )


def expense_from_harvest(obj: Json) -> Expense:
    with _mapping(f"expense {obj.get('id')}"):
        category = obj.get("expense_category") or {}
        user = obj.get("user") or {}
        return Expense(
            id=RecordId(str(obj["id"])),
            external_ref=None,  # Harvest expenses carry no external reference
            engagement_key=_engagement(obj["project"].get("code")),
            person_id=RecordId(str(user["id"])) if user.get("id") is not None else None,
            spent_date=date.fromisoformat(obj["spent_date"]),
            amount=Money(amount=_decimal(obj["total_cost"]), currency=obj["client"]["currency"]),
            category=category.get("name"),
            billable=bool(obj["billable"]),
            approved=bool(obj["is_closed"]),
            billed=bool(obj["is_billed"]),
            notes=obj.get("notes"),
            modified_at=_stamp(obj.get("updated_at")),
        )


def task_id_by_name(tasks: list[Json], name: str) -> int | None:
    """The id of the task called `name` (Harvest task names are unique per account)."""
    with _mapping("task list"):
        for task in tasks:
            if task["name"] == name:
                return int(task["id"])
        return None


def time_entry_to_harvest(command: TimeEntryCreate, *, project_id: int, task_id: int) -> Json:
    """The POST /v2/time_entries body (hours as a JSON number, never a float)."""
    body: Json = {
        "project_id": project_id,
        "task_id": task_id,
        "spent_date": command.spent_date.isoformat(),
        "hours": command.hours,
        "external_reference": {
            "id": command.external_ref,
            "group_id": command.engagement_key,
        },
    }
    if command.person_id is not None:
        body["user_id"] = int(command.person_id)
    if command.notes is not None:
        body["notes"] = command.notes
    return body


def _uninvoiced(row: Json, project: ProjectRef) -> UninvoicedWork:
    currency = row.get("currency") or project.currency
    if not isinstance(currency, str):
        raise TypeError("no currency on the row or its project")
    if project.currency is not None and currency != project.currency:
        raise ValueError(f"row currency {currency} is not the project's {project.currency}")
    expenses = _decimal(row["uninvoiced_expenses"])
    return UninvoicedWork(
        engagement_key=EngagementKey(str(project.code)),
        hours=_decimal(row["uninvoiced_hours"]),
        time_amount=Money(amount=_decimal(row["uninvoiced_amount"]) - expenses, currency=currency),
        expense_amount=Money(amount=expenses, currency=currency),
    )


def uninvoiced_by_engagement(
    rows: Iterable[Json], projects: Mapping[int, ProjectRef]
) -> dict[EngagementKey, UninvoicedWork]:
    """Uninvoiced report rows of `projects` (by id), summed per engagement key (their code).

    Rows of other projects are skipped; several projects with one code add up.
    """
    found: dict[EngagementKey, UninvoicedWork] = {}
    for row in rows:
        project_id = row.get("project_id")
        project = projects.get(project_id) if isinstance(project_id, int) else None
        if project is None:
            continue
        with _mapping(f"uninvoiced report row of project {project.id}"):
            work = _uninvoiced(row, project)
            seen = found.get(work.engagement_key)
            if seen is not None:
                work = UninvoicedWork(
                    engagement_key=work.engagement_key,
                    hours=seen.hours + work.hours,
                    time_amount=seen.time_amount + work.time_amount,
                    expense_amount=seen.expense_amount + work.expense_amount,
                )
            found[work.engagement_key] = work
    return found


def person_from_harvest(obj: Json) -> Person:
    """A Harvest user; its first role (Harvest's free-text ``roles``) is the person's role.

    Rates are left out: Harvest gives them without a currency."""
    with _mapping(f"user {obj.get('id')}"):
        roles = obj.get("roles") or []
        capacity = obj.get("weekly_capacity")
        return Person(
            id=RecordId(str(obj["id"])),
            email=obj["email"],
            name=f"{obj['first_name']} {obj['last_name']}".strip(),
            role=str(roles[0]) if roles else None,
            weekly_capacity_hours=Decimal(capacity) / 3600 if capacity is not None else None,
            is_contractor=bool(obj.get("is_contractor", False)),
            active=bool(obj.get("is_active", True)),
        )
