"""Staffing writes: workspace resources and their allocations (Kantata resource management).

- ``POST /workspace_resources.json {"workspace_resource": {workspace_id, user_id, role_id,
  label}}``: the workspace must exist; a user or role given must exist.
- ``POST /workspace_allocations.json {"workspace_allocation": {workspace_resource_id,
  start_date, end_date, percentage | minutes, hard, notes}}``: the resource must exist,
  both dates are required (end on or after start), ``percentage`` is 0..100 of the
  user's capacity. When ``minutes`` is not given it is computed from an 8-hour weekday
  (Kantata derives it from the user's work schedule: unverified).

Neither has an idempotency key or a uniqueness rule: posting twice makes two records
(callers look up before posting). Both stamp ``updated_at`` from the write clock.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sandboxes.kantata.errors import validation
from sandboxes.kantata.state import KantataState, weekdays

__all__ = ["create_workspace_allocation", "create_workspace_resource"]

Record = dict[str, Any]
_MINUTES_PER_WEEKDAY = Decimal(8 * 60)


def _existing(state: KantataState, table: str, name: str, value: Any, *, required: bool) -> Any:
    if value is None and not required:
        return None
    text = str(value) if value is not None else ""
    if text not in state.table(table):
        label = name.removesuffix("_id").replace("_", " ").capitalize()
        raise validation(name, f"{label} can't be blank" if not text else f"{label} is invalid")
    return text


def _text(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise validation(name, f"{name.capitalize()} is invalid")
    return value


def create_workspace_resource(state: KantataState, attrs: Record) -> Record:
    record: Record = {
        "id": state.mint("workspace_resources"),
        "workspace_id": _existing(
            state, "workspaces", "workspace_id", attrs.get("workspace_id"), required=True
        ),
        "user_id": _existing(state, "users", "user_id", attrs.get("user_id"), required=False),
        "role_id": _existing(state, "roles", "role_id", attrs.get("role_id"), required=False),
        "label": _text("label", attrs.get("label")),
        "updated_at": state.tick(),
    }
    state.table("workspace_resources")[record["id"]] = record
    return record


def _day(name: str, value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        label = name.replace("_", " ").capitalize()
        raise validation(name, f"{label} is not a valid date") from None


def _percentage(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise validation("percentage", "Percentage is not a number")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise validation("percentage", "Percentage is not a number") from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise validation("percentage", "Percentage must be between 0 and 100")
    return number.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def create_workspace_allocation(state: KantataState, attrs: Record) -> Record:
    resource_id = _existing(
        state,
        "workspace_resources",
        "workspace_resource_id",
        attrs.get("workspace_resource_id"),
        required=True,
    )
    start = _day("start_date", attrs.get("start_date"))
    end = _day("end_date", attrs.get("end_date"))
    if end < start:
        raise validation("end_date", "End date must be on or after the start date")
    if attrs.get("percentage") is None and attrs.get("minutes") is None:
        raise validation("percentage", "Percentage can't be blank")
    percentage = _percentage(attrs["percentage"]) if attrs.get("percentage") is not None else None
    minutes = attrs.get("minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)):
        raise validation("minutes", "Minutes is not a number")
    if minutes is None:
        assert percentage is not None
        total = _MINUTES_PER_WEEKDAY * percentage / 100 * weekdays(start, end)
        minutes = int(total.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    hard = attrs.get("hard", True)
    if not isinstance(hard, bool):
        raise validation("hard", "Hard must be true or false")
    record: Record = {
        "id": state.mint("workspace_allocations"),
        "workspace_resource_id": resource_id,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "minutes": minutes,
        "percentage": percentage,
        "hard": hard,
        "notes": _text("notes", attrs.get("notes")),
        "updated_at": state.tick(),
    }
    state.table("workspace_allocations")[record["id"]] = record
    return record
