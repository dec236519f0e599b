"""The demo firm rendered as Kantata records (the part of the firm Kantata owns).

Ids are minted in firm order (see `sandboxes.kantata.state`). Only
engagements present in Kantata get a workspace, each linked to its
engagement key by an external reference (service ``engagement-gateway``,
model ``engagement``); milestones become ``milestone`` stories, each linked
to the firm's milestone key (``MS-00001``) by an external reference on the
story (same service, model ``milestone``).

Staffing ("person X on engagement Y at N% from..to") is modelled the way
Kantata resource management does it: a ``workspace_resource`` (workspace,
user, role, label) per firm assignment, plus one ``workspace_allocation``
(``workspace_resource_id``, ``start_date``, ``end_date``, ``minutes`` = total
minutes over the range, ``percentage`` of the user's capacity, ``hard``).
Minutes are computed from the person's weekly capacity over the weekdays of
the range; ``percentage`` carries the firm's allocation percent exactly.

Timestamps: seeded ``updated_at`` values lie on or before the firm's
``as_of`` day; writes take the wall clock, never earlier than the morning
after ``as_of`` and strictly after every earlier stamp, so every write moves
the record's ``updated_at`` forward.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sandboxes.firm import Engagement, Firm
from sandboxes.kantata.state import (
    ACCOUNT_ID,
    GATEWAY_SERVICE_MODEL,
    GATEWAY_SERVICE_NAME,
    ID_BASES,
    MILESTONE_SERVICE_MODEL,
    STATUSES,
    KantataState,
    cents,
    stamp,
    weekdays,
)

__all__ = ["build_state"]

_MINUTES_PER_DAY = Decimal(60)


def _seed_stamp(day: date, index: int) -> str:
    return stamp(datetime.combine(day, time(9, 0), tzinfo=UTC) + timedelta(seconds=index))


def _percentage_complete(engagement: Engagement, as_of: date) -> int:
    if engagement.status == "COMPLETED" or as_of >= engagement.end_date:
        return 100
    if as_of <= engagement.start_date:
        return 0
    total = (engagement.end_date - engagement.start_date).days or 1
    return int((as_of - engagement.start_date).days * 100 / total)


def _status_key(engagement: Engagement, as_of: date) -> int:
    if engagement.status == "COMPLETED":
        return 410
    return 100 if engagement.start_date > as_of else 310


def _effective_date(version: str) -> str | None:
    match = re.search(r"(\d{4})", version)
    return f"{match.group(1)}-01-01" if match else None


def build_state(firm: Firm) -> KantataState:
    """Render the part of the firm Kantata owns; fast (well under 100 ms)."""
    tables: dict[str, dict[str, dict[str, Any]]] = {key: {} for key in ID_BASES}
    state = KantataState(
        tables=tables,
        next_ids=dict(ID_BASES),
        clock=datetime.combine(firm.as_of + timedelta(days=1), time(8, 0), tzinfo=UTC),
    )
    as_of = firm.as_of

    role_ids: dict[str, str] = {}
    role_names = [rate.role for rate in firm.rate_card] + [p.role for p in firm.people]
    role_names += [a.role for a in firm.assignments]
    for name in dict.fromkeys(role_names):
        role_id = state.mint("roles")
        role_ids[name] = role_id
        tables["roles"][role_id] = {"id": role_id, "name": name}

    user_ids: dict[str, str] = {}
    capacity: dict[str, int] = {}
    for index, person in enumerate(firm.people):
        user_id = state.mint("users")
        user_ids[person.key] = user_id
        capacity[person.key] = person.weekly_capacity_hours
        tables["users"][user_id] = {
            "id": user_id,
            "full_name": f"{person.first_name} {person.last_name}",
            "email_address": person.email,
            "headline": person.role,
            "account_id": ACCOUNT_ID,
            "updated_at": _seed_stamp(firm.as_of - timedelta(days=300), index),
        }
    state.me_user_id = next(iter(tables["users"]), None)

    templates = {line.code: line.project_template for line in firm.service_lines}
    staffed: dict[str, list[str]] = {}
    for assignment in firm.assignments:
        staffed.setdefault(assignment.engagement_key, []).append(assignment.person)

    workspace_ids: dict[str, str] = {}
    currencies: dict[str, str] = {}
    for index, engagement in enumerate(firm.engagements):
        if "kantata" not in engagement.present_in:
            continue
        workspace_id = state.mint("workspaces")
        workspace_ids[engagement.key] = workspace_id
        currencies[engagement.key] = engagement.currency
        creator = next(iter(staffed.get(engagement.key, [])), None)
        touched = min(engagement.end_date, as_of)
        template = templates.get(engagement.service_line, engagement.service_line)
        tables["workspaces"][workspace_id] = {
            "id": workspace_id,
            "title": engagement.name,
            "description": f"Engagement {engagement.key} (template: {template})",
            "start_date": engagement.start_date.isoformat(),
            "due_date": engagement.end_date.isoformat(),
            "budgeted": True,
            "price_in_cents": cents(engagement.contract_value),
            "currency": engagement.currency,
            "archived": False,
            "status": dict(STATUSES[_status_key(engagement, as_of)]),
            "percentage_complete": _percentage_complete(engagement, as_of),
            "creator_id": user_ids.get(creator) if creator else state.me_user_id,
            "created_at": _seed_stamp(min(engagement.start_date, as_of), index),
            "updated_at": _seed_stamp(touched, index),
        }
        ref_id = state.mint("external_references")
        tables["external_references"][ref_id] = {
            "id": ref_id,
            "subject_type": "Workspace",
            "subject_id": workspace_id,
            "service_name": GATEWAY_SERVICE_NAME,
            "service_model": GATEWAY_SERVICE_MODEL,
            "service_model_ref": engagement.key,
            "status": "synced",
            "external_status": None,
            "external_message": None,
            "updated_at": _seed_stamp(min(engagement.start_date, as_of), index),
        }

    for index, assignment in enumerate(firm.assignments):
        staffed_on = workspace_ids.get(assignment.engagement_key)
        if staffed_on is None:
            continue
        resource_id = state.mint("workspace_resources")
        tables["workspace_resources"][resource_id] = {
            "id": resource_id,
            "workspace_id": staffed_on,
            "user_id": user_ids.get(assignment.person),
            "role_id": role_ids.get(assignment.role),
            "label": assignment.role,
            "updated_at": _seed_stamp(min(assignment.start_date, as_of), index),
        }
        per_day = Decimal(capacity.get(assignment.person, 40)) / 5 * _MINUTES_PER_DAY
        minutes = per_day * assignment.allocation_percent / 100
        minutes *= weekdays(assignment.start_date, assignment.end_date)
        allocation_id = state.mint("workspace_allocations")
        tables["workspace_allocations"][allocation_id] = {
            "id": allocation_id,
            "workspace_resource_id": resource_id,
            "start_date": assignment.start_date.isoformat(),
            "end_date": assignment.end_date.isoformat(),
            "minutes": int(minutes.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)),
            "percentage": Decimal(assignment.allocation_percent).quantize(Decimal("0.1")),
            "hard": True,
            "notes": None,
            "updated_at": _seed_stamp(min(assignment.start_date, as_of), index),
        }

    milestone_stories: list[tuple[str, str]] = []
    for index, milestone in enumerate(firm.milestones):
        milestone_of = workspace_ids.get(milestone.engagement_key)
        if milestone_of is None:
            continue
        story_id = state.mint("stories")
        # "accepted" marks customer acceptance of a milestone (unverified state value).
        story_state = "accepted" if milestone.accepted else milestone.state
        done = story_state in ("completed", "accepted")
        tables["stories"][story_id] = {
            "id": story_id,
            "title": milestone.title,
            "description": None,
            "story_type": "milestone",
            "state": story_state,
            "start_date": None,
            "due_date": milestone.due_date.isoformat(),
            "workspace_id": milestone_of,
            "parent_id": None,
            "percentage_complete": 100 if done else (50 if story_state == "started" else 0),
            "budget_estimate_in_cents": cents(milestone.amount),
            "billable": True,
            "archived": False,
            "updated_at": _seed_stamp(min(milestone.due_date, as_of), index),
        }
        milestone_stories.append((story_id, milestone.key))

    # after every workspace's reference, so theirs keep their ids
    for story_id, milestone_key in milestone_stories:
        ref_id = state.mint("external_references")
        tables["external_references"][ref_id] = {
            "id": ref_id,
            "subject_type": "Story",
            "subject_id": story_id,
            "service_name": GATEWAY_SERVICE_NAME,
            "service_model": MILESTONE_SERVICE_MODEL,
            "service_model_ref": milestone_key,
            "status": "synced",
            "external_status": None,
            "external_message": None,
            "updated_at": tables["stories"][story_id]["updated_at"],
        }

    _build_rate_cards(state, firm, role_ids)
    return state


def _build_rate_cards(state: KantataState, firm: Firm, role_ids: dict[str, str]) -> None:
    tables = state.tables
    set_ids: dict[str, str] = {}
    version_ids: dict[tuple[str, str], str] = {}
    for rate in firm.rate_card:
        set_id = set_ids.get(rate.currency)
        if set_id is None:
            set_id = set_ids[rate.currency] = state.mint("rate_card_sets")
            tables["rate_card_sets"][set_id] = {
                "id": set_id,
                "title": f"Standard Rates {rate.currency}",
                "currency": rate.currency,
            }
        version_id = version_ids.get((rate.currency, rate.version))
        if version_id is None:
            version_id = state.mint("rate_card_set_versions")
            version_ids[(rate.currency, rate.version)] = version_id
            tables["rate_card_set_versions"][version_id] = {
                "id": version_id,
                "rate_card_set_id": set_id,
                "title": rate.version,
                "currency": rate.currency,
                "effective_date": _effective_date(rate.version),
                "published": True,
            }
        role_rate_id = state.mint("rate_card_roles")
        tables["rate_card_roles"][role_rate_id] = {
            "id": role_rate_id,
            "rate_card_set_version_id": version_id,
            "role_id": role_ids[rate.role],
            "rate_in_cents": cents(rate.bill_rate),
            "currency": rate.currency,
        }
