"""The resources this sandbox serves: their associations, filters and sort keys.

Filters follow Kantata's query parameters. Comma-separated id lists are
accepted for ``workspace_id`` (batch look-up; (unverified) on the real API,
which documents a single id), as for ``only``. ``matching=`` is a
case-insensitive substring match on workspace title and description, user
name and e-mail, story title (which fields Kantata searches is unverified).
Unknown parameters are ignored, as Rails does; malformed values of known
ones give 422.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandboxes.kantata.associations import Association, belongs_to, has_many
from sandboxes.kantata.errors import validation
from sandboxes.kantata.state import KantataState

__all__ = [
    "ASSOCIATIONS",
    "MAX_IDS",
    "RESOURCES",
    "Predicate",
    "Resource",
    "parse_bool",
    "parse_ids",
    "parse_moment",
]

Record = dict[str, Any]
Predicate = Callable[[Record], bool]
FilterFactory = Callable[[KantataState, str, str], Predicate]
"""(state, parameter name, raw value) -> record predicate; raises KantataError."""

MAX_IDS = 200


def parse_ids(name: str, raw: str, *, limit: int | None = None) -> list[str]:
    values = [part.strip() for part in raw.split(",") if part.strip()]
    if limit is not None and len(values) > limit:
        raise validation(name, f"{name} accepts at most {limit} values; got {len(values)}")
    return values


def parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise validation(name, f"{name} must be true or false")


def parse_moment(name: str, raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise validation(name, f"{name} must be an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moment_of(record: Record, name: str) -> datetime | None:
    value = record.get(name)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _field_in(field_name: str, limit: int | None = None) -> FilterFactory:
    def factory(state: KantataState, name: str, raw: str) -> Predicate:
        wanted = set(parse_ids(name, raw, limit=limit))
        return lambda record: str(record.get(field_name)) in wanted

    return factory


def _field_bool(field_name: str) -> FilterFactory:
    def factory(state: KantataState, name: str, raw: str) -> Predicate:
        wanted = parse_bool(name, raw)
        return lambda record: bool(record.get(field_name)) is wanted

    return factory


def _updated_after(state: KantataState, name: str, raw: str) -> Predicate:
    since = parse_moment(name, raw)

    def predicate(record: Record) -> bool:
        moment = _moment_of(record, "updated_at")
        return moment is not None and moment > since

    return predicate


def _matching(*fields_: str) -> FilterFactory:
    def factory(state: KantataState, name: str, raw: str) -> Predicate:
        needle = raw.strip().lower()
        return lambda record: any(needle in str(record.get(f) or "").lower() for f in fields_)

    return factory


def _by_engagement_refs(state: KantataState, name: str, raw: str) -> Predicate:
    """Workspaces linked by an external reference whose service_model_ref is listed."""
    refs = set(parse_ids(name, raw, limit=MAX_IDS))
    linked = {
        ref["subject_id"]
        for ref in state.table("external_references").values()
        if ref["subject_type"] == "Workspace" and ref["service_model_ref"] in refs
    }
    return lambda record: record["id"] in linked


def _allocation_workspace(state: KantataState, name: str, raw: str) -> Predicate:
    wanted = set(parse_ids(name, raw))
    resources = state.table("workspace_resources")
    return lambda record: (
        resources.get(record["workspace_resource_id"], {}).get("workspace_id") in wanted
    )


@dataclass(frozen=True, slots=True)
class Resource:
    key: str  # collection and map key: "workspaces"
    singular: str  # write root key: "workspace"
    model: str  # model name in messages: "Workspace"
    filters: Mapping[str, FilterFactory] = field(default_factory=dict)
    orders: frozenset[str] = frozenset({"id"})


def _only() -> dict[str, FilterFactory]:
    return {"only": _field_in("id", MAX_IDS)}


RESOURCES: dict[str, Resource] = {
    resource.key: resource
    for resource in (
        Resource(
            "workspaces",
            "workspace",
            "Workspace",
            {
                **_only(),
                "archived": _field_bool("archived"),
                "matching": _matching("title", "description"),
                "updated_after": _updated_after,
                "external_reference_service_model_refs": _by_engagement_refs,
            },
            frozenset({"id", "updated_at", "created_at", "title", "start_date", "due_date"}),
        ),
        Resource(
            "users",
            "user",
            "User",
            {**_only(), "matching": _matching("full_name", "email_address")},
            frozenset({"id", "updated_at", "full_name"}),
        ),
        Resource("roles", "role", "Role", _only()),
        Resource(
            "workspace_resources",
            "workspace_resource",
            "WorkspaceResource",
            {**_only(), "workspace_id": _field_in("workspace_id"), "user_id": _field_in("user_id")},
            frozenset({"id", "updated_at"}),
        ),
        Resource(
            "workspace_allocations",
            "workspace_allocation",
            "WorkspaceAllocation",
            {
                **_only(),
                "workspace_id": _allocation_workspace,
                "workspace_resource_id": _field_in("workspace_resource_id"),
            },
            frozenset({"id", "updated_at", "start_date"}),
        ),
        Resource(
            "stories",
            "story",
            "Story",
            {
                **_only(),
                "workspace_id": _field_in("workspace_id"),
                "story_type": _field_in("story_type"),
                "archived": _field_bool("archived"),
                "updated_after": _updated_after,
                "matching": _matching("title"),
            },
            frozenset({"id", "updated_at", "due_date"}),
        ),
        Resource(
            "external_references",
            "external_reference",
            "ExternalReference",
            {
                **_only(),
                "subject_type": _field_in("subject_type"),
                "subject_id": _field_in("subject_id"),
                "service_name": _field_in("service_name"),
                "service_model": _field_in("service_model"),
                "service_model_ref": _field_in("service_model_ref", MAX_IDS),
            },
            frozenset({"id", "updated_at"}),
        ),
        Resource("rate_card_sets", "rate_card_set", "RateCardSet", _only()),
        Resource(
            "rate_card_set_versions",
            "rate_card_set_version",
            "RateCardSetVersion",
            {**_only(), "rate_card_set_id": _field_in("rate_card_set_id")},
        ),
        Resource(
            "rate_card_roles",
            "rate_card_role",
            "RateCardRole",
            {**_only(), "rate_card_set_version_id": _field_in("rate_card_set_version_id")},
        ),
    )
}


def _participants(state: KantataState, owners: Sequence[Record]) -> dict[str, list[str]]:
    wanted = {o["id"] for o in owners}
    found: dict[str, list[str]] = {owner_id: [] for owner_id in wanted}
    for resource in state.table("workspace_resources").values():
        user_id = resource.get("user_id")
        owner = resource["workspace_id"]
        if owner in wanted and user_id and user_id not in found[owner]:
            found[owner].append(user_id)
    return found


def _allocation_workspace_ids(
    state: KantataState, owners: Sequence[Record]
) -> dict[str, list[str]]:
    resources = state.table("workspace_resources")
    found: dict[str, list[str]] = {}
    for owner in owners:
        workspace_id = resources.get(owner["workspace_resource_id"], {}).get("workspace_id")
        found[owner["id"]] = [workspace_id] if workspace_id else []
    return found


def _is_workspace_ref(record: Record) -> bool:
    return bool(record["subject_type"] == "Workspace")


def _is_story_ref(record: Record) -> bool:
    return bool(record["subject_type"] == "Story")


ASSOCIATIONS: dict[str, dict[str, Association]] = {
    "workspaces": {
        "participants": Association("users", "participant_ids", True, _participants),
        "creator": belongs_to("users", "creator_id"),
        "stories": has_many("stories", "story_ids", "workspace_id"),
        "workspace_resources": has_many(
            "workspace_resources", "workspace_resource_ids", "workspace_id"
        ),
        "external_references": has_many(
            "external_references", "external_reference_ids", "subject_id", _is_workspace_ref
        ),
    },
    "workspace_resources": {
        "workspace": belongs_to("workspaces", "workspace_id"),
        "user": belongs_to("users", "user_id"),
        "role": belongs_to("roles", "role_id"),
        "workspace_allocations": has_many(
            "workspace_allocations", "workspace_allocation_ids", "workspace_resource_id"
        ),
    },
    "workspace_allocations": {
        "workspace_resource": belongs_to("workspace_resources", "workspace_resource_id"),
        "workspace": Association("workspaces", "workspace_id", False, _allocation_workspace_ids),
    },
    "stories": {
        "workspace": belongs_to("workspaces", "workspace_id"),
        "parent": belongs_to("stories", "parent_id"),
        "external_references": has_many(
            "external_references", "external_reference_ids", "subject_id", _is_story_ref
        ),
    },
    "external_references": {},
    "rate_card_sets": {
        "rate_card_set_versions": has_many(
            "rate_card_set_versions", "rate_card_set_version_ids", "rate_card_set_id"
        ),
    },
    "rate_card_set_versions": {
        "rate_card_set": belongs_to("rate_card_sets", "rate_card_set_id"),
        "rate_card_roles": has_many(
            "rate_card_roles", "rate_card_role_ids", "rate_card_set_version_id"
        ),
    },
    "rate_card_roles": {
        "role": belongs_to("roles", "role_id"),
        "rate_card_set_version": belongs_to("rate_card_set_versions", "rate_card_set_version_id"),
    },
}
