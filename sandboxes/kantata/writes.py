"""Writes: singular root key in, validation as Rails/brainstem reports it.

Bodies are ``{"workspace": {...}}`` style. A malformed body or a missing root
key is a 400 ``system`` error (Rails' ParameterMissing); unknown attributes
are dropped (strong parameters); a value of the wrong type or a rule broken
is a 422 ``validation`` error naming the field. Every write stamps
``updated_at`` from the state's write clock. A workspace's status is set
with ``status_key`` (one of `STATUSES`; the attribute name is unverified);
new workspaces start "Not Started".

External references are unique per (subject_type, service_name,
service_model, service_model_ref): a second one is a 422 "has already been
taken" (unverified against the real API).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from sandboxes.kantata.errors import KantataError, not_found, validation
from sandboxes.kantata.state import STATUSES, KantataState

__all__ = [
    "STORY_STATES",
    "STORY_TYPES",
    "create_external_reference",
    "create_story",
    "create_workspace",
    "parse_body",
    "update_story",
    "update_workspace",
]

Record = dict[str, Any]
STORY_TYPES = ("task", "milestone", "deliverable", "issue")
# "accepted" = customer acceptance of a milestone/deliverable (unverified state value).
STORY_STATES = ("not started", "started", "completed", "accepted")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def parse_body(raw: bytes, root: str) -> Record:
    try:
        body = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise KantataError(400, "system", "The request body is not valid JSON") from None
    attrs = body.get(root) if isinstance(body, dict) else None
    if not isinstance(attrs, dict) or not attrs:
        raise KantataError(400, "system", f"param is missing or the value is empty: {root}")
    return attrs


def _human(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ").capitalize()


def _text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation(name, f"{_human(name)} is invalid")
    return value


def _blank_checked(name: str, value: Any) -> str:
    text = _text(name, value)
    if text is None or not text.strip():
        raise validation(name, f"{_human(name)} can't be blank")
    return text


def _date(name: str, value: Any) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise validation(name, f"{_human(name)} is not a valid date") from None


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise validation(name, f"{_human(name)} must be true or false")
    return value


def _cents(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation(name, f"{_human(name)} is not a number")
    if value < 0:
        raise validation(name, f"{_human(name)} must be greater than or equal to 0")
    return value


def _currency(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise validation(name, f"{_human(name)} is not included in the list")
    return value


def _one_of(options: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        if value not in options:
            raise validation(name, f"{_human(name)} is not included in the list")
        return str(value)

    return check


def _coerce(attrs: Record, rules: dict[str, Callable[[str, Any], Any]]) -> Record:
    return {name: rule(name, attrs[name]) for name, rule in rules.items() if name in attrs}


def _check_dates(record: Record) -> None:
    start, due = record.get("start_date"), record.get("due_date")
    if start and due and due < start:
        raise validation("due_date", "Due date must be on or after the start date")


_WORKSPACE_RULES: dict[str, Callable[[str, Any], Any]] = {
    "title": _blank_checked,
    "description": _text,
    "start_date": _date,
    "due_date": _date,
    "budgeted": _bool,
    "price_in_cents": _cents,
    "currency": _currency,
    "archived": _bool,
    "status_key": lambda name, value: _status(name, value),
}


def _status(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool) or not isinstance(value, int) or value not in STATUSES:
        raise validation(name, f"{_human(name)} is not included in the list")
    return dict(STATUSES[value])


def _apply_workspace(record: Record, changes: Record) -> None:
    status = changes.pop("status_key", None)
    record.update(changes)
    if status is not None:
        record["status"] = status


def create_workspace(state: KantataState, attrs: Record) -> Record:
    changes = _coerce(attrs, _WORKSPACE_RULES)
    if "title" not in changes:
        raise validation("title", "Title can't be blank")
    now = state.tick()
    record: Record = {
        "id": state.mint("workspaces"),
        "title": "",
        "description": "",
        "start_date": None,
        "due_date": None,
        "budgeted": "price_in_cents" in changes,
        "price_in_cents": None,
        "currency": "USD",
        "archived": False,
        "status": dict(STATUSES[100]),
        "percentage_complete": 0,
        "creator_id": state.me_user_id,
        "created_at": now,
        "updated_at": now,
    }
    _apply_workspace(record, changes)
    _check_dates(record)
    state.table("workspaces")[record["id"]] = record
    return record


def update_workspace(state: KantataState, workspace_id: str, attrs: Record) -> Record:
    stored = state.table("workspaces").get(workspace_id)
    if stored is None:
        raise not_found("Workspace", workspace_id)
    record = dict(stored)
    _apply_workspace(record, _coerce(attrs, _WORKSPACE_RULES))
    _check_dates(record)
    record["updated_at"] = state.tick()
    state.table("workspaces")[workspace_id] = record
    return record


_SUBJECT_TABLES = {"Workspace": "workspaces", "Story": "stories"}


def create_external_reference(state: KantataState, attrs: Record) -> Record:
    subject_type = _one_of(tuple(_SUBJECT_TABLES))("subject_type", attrs.get("subject_type"))
    subject_id = str(attrs.get("subject_id") or "")
    if subject_id not in state.table(_SUBJECT_TABLES[subject_type]):
        raise validation("subject_id", "Subject can't be blank")
    values = {
        name: _blank_checked(name, attrs.get(name))
        for name in ("service_name", "service_model", "service_model_ref")
    }
    for ref in state.table("external_references").values():
        if ref["subject_type"] == subject_type and all(ref[k] == v for k, v in values.items()):
            raise validation("service_model_ref", "Service model ref has already been taken")
    record: Record = {
        "id": state.mint("external_references"),
        "subject_type": subject_type,
        "subject_id": subject_id,
        **values,
        "status": _text("status", attrs.get("status")) or "synced",
        "external_status": _text("external_status", attrs.get("external_status")),
        "external_message": _text("external_message", attrs.get("external_message")),
        "updated_at": state.tick(),
    }
    state.table("external_references")[record["id"]] = record
    return record


_STORY_RULES: dict[str, Callable[[str, Any], Any]] = {
    "title": _blank_checked,
    "description": _text,
    "story_type": _one_of(STORY_TYPES),
    "state": _one_of(STORY_STATES),
    "start_date": _date,
    "due_date": _date,
    "budget_estimate_in_cents": _cents,
    "billable": _bool,
    "archived": _bool,
}


def _apply_story(record: Record, changes: Record) -> None:
    record.update(changes)
    if record["state"] == "accepted" and record["story_type"] not in ("milestone", "deliverable"):
        raise validation("state", "State is not included in the list")
    if "state" in changes:
        done = record["state"] in ("completed", "accepted")
        record["percentage_complete"] = 100 if done else (50 if record["state"] == "started" else 0)
    _check_dates(record)


def create_story(state: KantataState, attrs: Record) -> Record:
    workspace_id = str(attrs.get("workspace_id") or "")
    if workspace_id not in state.table("workspaces"):
        raise validation("workspace_id", "Workspace can't be blank")
    changes = _coerce(attrs, _STORY_RULES)
    if "title" not in changes:
        raise validation("title", "Title can't be blank")
    parent_id = attrs.get("parent_id")
    if parent_id is not None and str(parent_id) not in state.table("stories"):
        raise validation("parent_id", "Parent is invalid")
    record: Record = {
        "id": state.mint("stories"),
        "title": "",
        "description": None,
        "story_type": "task",
        "state": "not started",
        "start_date": None,
        "due_date": None,
        "workspace_id": workspace_id,
        "parent_id": str(parent_id) if parent_id is not None else None,
        "percentage_complete": 0,
        "budget_estimate_in_cents": None,
        "billable": True,
        "archived": False,
        "updated_at": state.tick(),
    }
    _apply_story(record, changes)
    state.table("stories")[record["id"]] = record
    return record


def update_story(state: KantataState, story_id: str, attrs: Record) -> Record:
    stored = state.table("stories").get(story_id)
    if stored is None:
        raise not_found("Story", story_id)
    record = dict(stored)
    _apply_story(record, _coerce(attrs, _STORY_RULES))
    record["updated_at"] = state.tick()
    state.table("stories")[story_id] = record
    return record
