"""All Kantata JSON ⇄ canonical model mapping, in one place.

Reads: the §2 envelope (``results`` in order, per-type maps keyed by string
id) is parsed with Decimal for every JSON number, then each record becomes a
canonical model. Money is integer cents plus ``currency``: ``Decimal(cents) /
100``, exactly. The engagement key of a workspace comes from its external
reference (service ``engagement-gateway``, model ``engagement``); a
milestone's natural key (``MS-00001``) from the story's reference (model
``milestone``). Writes: a
command becomes the vendor body under its singular root key.

Anything the vendor sends that does not fit raises `MappingFailed`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from adapters.kantata.envelope import Envelope, Record, mapping
from domain.commands import ProjectCreate
from domain.ids import EngagementKey, RecordId
from domain.models import (
    Assignment,
    Milestone,
    MilestoneState,
    Person,
    Project,
    ProjectStatus,
    RateCard,
    RateCardRate,
)
from domain.money import Money

__all__ = [
    "MILESTONE_MODEL",
    "SERVICE_MODEL",
    "SERVICE_NAME",
    "accept_story_body",
    "assignment_from",
    "engagement_marker",
    "engagement_refs",
    "external_reference_body",
    "marks_engagement",
    "milestone_from",
    "money_from_cents",
    "person_from",
    "project_from",
    "project_status",
    "rate_card_from",
    "story_refs",
    "workspace_body",
    "workspace_ids_by_key",
]

SERVICE_NAME = "engagement-gateway"
SERVICE_MODEL = "engagement"
MILESTONE_MODEL = "milestone"


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def money_from_cents(value: Any, currency: Any) -> Money | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"cents must be a number, got {value!r}")
    return Money.of(Decimal(value) / 100, str(currency))


def _engagement_links(envelope: Envelope) -> list[tuple[str, EngagementKey]]:
    """(workspace id, engagement key) of each included engagement reference, in order."""
    with mapping("external references"):
        return [
            (str(ref["subject_id"]), EngagementKey(ref["service_model_ref"]))
            for ref in envelope.maps.get("external_references", {}).values()
            if ref.get("subject_type") == "Workspace"
            and ref.get("service_name") == SERVICE_NAME
            and ref.get("service_model") == SERVICE_MODEL
        ]


def engagement_refs(envelope: Envelope) -> dict[str, EngagementKey]:
    """Workspace id -> engagement key, from the included external references."""
    found: dict[str, EngagementKey] = {}
    for workspace_id, key in _engagement_links(envelope):
        found.setdefault(workspace_id, key)
    return found


def story_refs(envelope: Envelope) -> dict[str, str]:
    """Story id -> milestone key, from the included external references of stories."""
    found: dict[str, str] = {}
    with mapping("external references"):
        for ref in envelope.maps.get("external_references", {}).values():
            if (
                ref.get("subject_type") == "Story"
                and ref.get("service_name") == SERVICE_NAME
                and ref.get("service_model") == MILESTONE_MODEL
            ):
                found.setdefault(str(ref["subject_id"]), str(ref["service_model_ref"]))
    return found


def workspace_ids_by_key(envelope: Envelope) -> dict[EngagementKey, RecordId]:
    """Engagement key -> workspace id (the first linked), from the included references."""
    found: dict[EngagementKey, RecordId] = {}
    for workspace_id, key in _engagement_links(envelope):
        found.setdefault(key, RecordId(workspace_id))
    return found


_STATUS_BY_MESSAGE = {
    "not started": ProjectStatus.PLANNED,
    "in planning": ProjectStatus.PLANNED,
    "estimate": ProjectStatus.PLANNED,
    "proposed": ProjectStatus.PLANNED,
    "active": ProjectStatus.ACTIVE,
    "in progress": ProjectStatus.ACTIVE,
    "on hold": ProjectStatus.ACTIVE,
    "at risk": ProjectStatus.ACTIVE,
    "completed": ProjectStatus.COMPLETED,
    "closed": ProjectStatus.COMPLETED,
    "cancelled": ProjectStatus.CANCELLED,
    "canceled": ProjectStatus.CANCELLED,
}
_STATUS_BY_COLOR = {
    "grey": ProjectStatus.PLANNED,
    "gray": ProjectStatus.PLANNED,
    "green": ProjectStatus.ACTIVE,
    "yellow": ProjectStatus.ACTIVE,
    "blue": ProjectStatus.COMPLETED,
    "red": ProjectStatus.CANCELLED,
}


def project_status(status: Any) -> ProjectStatus:
    """Kantata's status is account-configurable: match the message, then the colour."""
    if not isinstance(status, dict):
        raise TypeError(f"workspace status must be an object, got {status!r}")
    message = str(status.get("message") or "").strip().lower()
    found = _STATUS_BY_MESSAGE.get(message) or _STATUS_BY_COLOR.get(str(status.get("color")))
    if found is None:
        raise ValueError(f"unknown workspace status {status!r}")
    return found


def project_from(workspace: Record, engagement_key: EngagementKey | None) -> Project:
    with mapping(f"workspace {workspace.get('id')!r}"):
        price = workspace.get("price_in_cents") if workspace.get("budgeted") else None
        return Project(
            id=RecordId(str(workspace["id"])),
            engagement_key=engagement_key,
            name=workspace["title"],
            status=project_status(workspace["status"]),
            start_date=_day(workspace.get("start_date")),
            end_date=_day(workspace.get("due_date")),
            budget=money_from_cents(price, workspace.get("currency")),
            archived=bool(workspace.get("archived", False)),
            modified_at=_moment(workspace.get("updated_at")),
        )


def person_from(user: Record) -> Person:
    with mapping(f"user {user.get('id')!r}"):
        return Person(
            id=RecordId(str(user["id"])),
            email=user["email_address"],
            name=user["full_name"],
            role=user.get("headline") or None,
        )


def _percent(value: Any) -> int | None:
    if value is None:
        return None
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def assignment_from(
    resource: Record, envelope: Envelope, engagement_key: EngagementKey | None
) -> Assignment:
    """One workspace resource and its allocations (spanned, day-weighted percent)."""
    with mapping(f"workspace resource {resource.get('id')!r}"):
        role = envelope.get("roles", resource.get("role_id"))
        allocations = [
            envelope.maps["workspace_allocations"][str(i)]
            for i in resource.get("workspace_allocation_ids") or []
        ]
        starts = [d for a in allocations if (d := _day(a.get("start_date")))]
        ends = [d for a in allocations if (d := _day(a.get("end_date")))]
        percent = _percent(allocations[0].get("percentage")) if allocations else None
        if len(allocations) > 1:
            spans = [
                (date.fromisoformat(a["end_date"]) - date.fromisoformat(a["start_date"])).days + 1
                for a in allocations
            ]
            weighted = sum(
                Decimal(a["percentage"]) * n for a, n in zip(allocations, spans, strict=True)
            )
            percent = _percent(weighted / sum(spans))
        return Assignment(
            id=RecordId(str(resource["id"])),
            engagement_key=engagement_key,
            project_id=RecordId(str(resource["workspace_id"])),
            person_id=RecordId(str(resource["user_id"])) if resource.get("user_id") else None,
            role=(role or {}).get("name") or resource.get("label") or None,
            allocation_percent=percent,
            start_date=min(starts) if starts else None,
            end_date=max(ends) if ends else None,
        )


_STORY_STATES = {
    "not started": MilestoneState.NOT_STARTED,
    "started": MilestoneState.STARTED,
    "completed": MilestoneState.COMPLETED,
    "accepted": MilestoneState.ACCEPTED,  # customer acceptance (unverified state value)
}


def milestone_from(
    story: Record,
    engagement_key: EngagementKey | None,
    currency: str | None,
    external_ref: str | None = None,
) -> Milestone:
    with mapping(f"story {story.get('id')!r}"):
        cents = story.get("budget_estimate_in_cents")
        if cents is not None and currency is None:
            raise ValueError("a milestone amount needs its workspace currency")
        return Milestone(
            id=RecordId(str(story["id"])),
            engagement_key=engagement_key,
            project_id=RecordId(str(story["workspace_id"])),
            title=story["title"],
            due_date=_day(story.get("due_date")),
            amount=money_from_cents(cents, currency),
            state=_STORY_STATES[str(story["state"])],
            billable=bool(story.get("billable", True)),
            external_ref=external_ref,
            modified_at=_moment(story.get("updated_at")),
        )


def rate_card_from(version: Record, envelope: Envelope) -> RateCard:
    with mapping(f"rate card set version {version.get('id')!r}"):
        rate_set = envelope.get("rate_card_sets", version.get("rate_card_set_id")) or {}
        currency = str(version.get("currency") or rate_set["currency"])
        rates: list[RateCardRate] = []
        for role_rate_id in version.get("rate_card_role_ids") or []:
            role_rate = envelope.maps["rate_card_roles"][str(role_rate_id)]
            role = envelope.maps["roles"][str(role_rate["role_id"])]
            amount = money_from_cents(
                role_rate["rate_in_cents"], role_rate.get("currency") or currency
            )
            if amount is None:
                continue
            rates.append(RateCardRate(role=role["name"], rate=amount))
        return RateCard(
            id=RecordId(str(version["id"])),
            version=version["title"],
            currency=currency,
            rates=tuple(rates),
        )


def engagement_marker(key: EngagementKey) -> str:
    """Text the workspace description carries, so an unlinked workspace can be found."""
    return f"Engagement {key}"


def marks_engagement(workspace: Record, key: EngagementKey) -> bool:
    description = str(workspace.get("description") or "")
    marker = engagement_marker(key)
    return description == marker or description.startswith(marker + " ")


def workspace_body(command: ProjectCreate) -> dict[str, Any]:
    marker = engagement_marker(command.engagement_key)
    attrs: dict[str, Any] = {
        "title": command.name,
        "description": f"{marker} (template: {command.template})",
        "start_date": command.start_date.isoformat(),
        "due_date": command.end_date.isoformat(),
    }
    if command.budget is not None:
        cents = (command.budget.amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        attrs.update(budgeted=True, price_in_cents=int(cents), currency=command.budget.currency)
    return {"workspace": attrs}


def external_reference_body(workspace_id: RecordId, key: EngagementKey) -> dict[str, Any]:
    return {
        "external_reference": {
            "subject_type": "Workspace",
            "subject_id": workspace_id,
            "service_name": SERVICE_NAME,
            "service_model": SERVICE_MODEL,
            "service_model_ref": key,
            "status": "synced",
        }
    }


def accept_story_body() -> dict[str, Any]:
    return {"story": {"state": "accepted"}}
