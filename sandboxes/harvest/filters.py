"""Which query parameters each list endpoint accepts, and how they match rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sandboxes.harvest.query import (
    Parser,
    choice,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_int,
)
from sandboxes.harvest.records import ExpenseRec, TimeEntryRec
from sandboxes.harvest.state import HarvestState

__all__ = [
    "ACTIVE_SPEC",
    "CATEGORY_SPEC",
    "EXPENSE_SPEC",
    "PROJECT_SPEC",
    "TIME_ENTRY_SPEC",
    "match_entries",
    "match_simple",
]

Row = TypeVar("Row")
Entry = TypeVar("Entry", TimeEntryRec, ExpenseRec)
_APPROVAL = choice("unsubmitted", "submitted", "approved")

TIME_ENTRY_SPEC: dict[str, Parser] = {
    "user_id": parse_int,
    "client_id": parse_int,
    "project_id": parse_int,
    "task_id": parse_int,
    "external_reference_id": lambda name, raw: raw,
    "is_billed": parse_bool,
    "is_running": parse_bool,
    "approval_status": _APPROVAL,
    "updated_since": parse_datetime,
    "from": parse_date,
    "to": parse_date,
}
EXPENSE_SPEC: dict[str, Parser] = {
    "user_id": parse_int,
    "client_id": parse_int,
    "project_id": parse_int,
    "is_billed": parse_bool,
    "approval_status": _APPROVAL,
    "updated_since": parse_datetime,
    "from": parse_date,
    "to": parse_date,
}
PROJECT_SPEC: dict[str, Parser] = {
    "is_active": parse_bool,
    "client_id": parse_int,
    "updated_since": parse_datetime,
}
ACTIVE_SPEC: dict[str, Parser] = {"is_active": parse_bool, "updated_since": parse_datetime}
CATEGORY_SPEC: dict[str, Parser] = {"is_active": parse_bool}


def match_entries(
    state: HarvestState,
    rows: Iterable[Entry],
    values: Mapping[str, Any],
) -> list[Entry]:
    """Time entries or expenses matching the parsed filters (all of them, ANDed)."""
    client_projects: set[int] | None = None
    if "client_id" in values:
        client = values["client_id"]
        client_projects = {p.id for p in state.projects.values() if p.client_id == client}
    return [row for row in rows if _entry_matches(row, values, client_projects)]


def _entry_matches(
    row: TimeEntryRec | ExpenseRec, values: Mapping[str, Any], client_projects: set[int] | None
) -> bool:
    for name, value in values.items():
        if name in ("user_id", "project_id", "task_id", "is_billed", "is_running"):
            ok = getattr(row, name) == value
        elif name == "client_id":
            ok = client_projects is not None and row.project_id in client_projects
        elif name == "external_reference_id":
            ref = getattr(row, "external_reference", None)
            ok = ref is not None and ref.id == value
        elif name == "approval_status":
            ok = row.approval_status == value
        elif name == "updated_since":
            ok = row.updated_at >= value
        elif name == "from":
            ok = row.spent_date >= value
        elif name == "to":
            ok = row.spent_date <= value
        else:  # pragma: no cover - the spec admits only the names above
            raise ValueError(f"no matcher for {name}")
        if not ok:
            return False
    return True


def match_simple(rows: Iterable[Row], values: Mapping[str, Any]) -> list[Row]:
    """Projects, clients, users, tasks, categories: is_active, client_id, updated_since."""
    result: list[Row] = []
    for row in rows:
        ok = True
        for name, value in values.items():
            if name == "updated_since":
                ok = getattr(row, "updated_at") >= value  # noqa: B009
            else:
                ok = getattr(row, name) == value
            if not ok:
                break
        if ok:
            result.append(row)
    return result
