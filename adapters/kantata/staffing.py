"""Staffing through Kantata resource management: workspace resources and allocations.

A person on a project is a ``workspace_resource`` (workspace, user, role) with
one or more ``workspace_allocations`` (date range, percentage of capacity).
`assign_resource` is idempotent by look-up, since Kantata has no idempotency
key: the allocation carries the command's key in its ``notes`` (``Assignment
<key>``); the adapter first looks for that allocation in the workspace, then
for the person's resource in that role, and creates only what is missing. A
POST whose answer is lost is followed by the same look-up, so a replay (or
the lost answer itself) never makes a second resource or allocation.

`list_allocations` pages every allocation of the account with its resource,
role and workspace side-loaded, and keeps those overlapping the window
client-side: the sandbox's ``workspace_allocations`` listing has no date
filter (whether the real API has one is unverified).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from adapters.kantata import mapping
from adapters.kantata.calls import Call, Listing, WorkspaceOf, post_or_find
from adapters.kantata.envelope import SYSTEM, Envelope, Record, mapping_failures
from domain.commands import AssignmentCreate
from domain.errors import NotFound
from domain.ids import EngagementKey, RecordId
from domain.models import Assignment

__all__ = ["KantataStaffing", "allocation_assignment", "assignment_marker"]

_RESOURCE_INCLUDE = "role,workspace_allocations"


def assignment_marker(idempotency_key: str) -> str:
    """The allocation ``notes`` that name the command which made it."""
    return f"Assignment {idempotency_key}"


def allocation_assignment(
    allocation: Record, envelope: Envelope, engagement_key: EngagementKey | None
) -> Assignment:
    """One allocation as an Assignment: the resource's id, person and role, the
    allocation's own dates and percentage."""
    with mapping_failures(f"workspace allocation {allocation.get('id')!r}"):
        resource = envelope.maps["workspace_resources"][str(allocation["workspace_resource_id"])]
        role = envelope.get("roles", resource.get("role_id")) or {}
        percentage = allocation.get("percentage")
        return Assignment(
            id=RecordId(str(resource["id"])),
            engagement_key=engagement_key,
            project_id=RecordId(str(resource["workspace_id"])),
            person_id=RecordId(str(resource["user_id"])) if resource.get("user_id") else None,
            role=role.get("name") or resource.get("label") or None,
            allocation_percent=int(
                Decimal(percentage).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
            )
            if percentage is not None
            else None,
            start_date=date.fromisoformat(allocation["start_date"]),
            end_date=date.fromisoformat(allocation["end_date"]),
        )


def _overlaps(allocation: Record, date_from: date, date_to: date) -> bool:
    start, end = allocation.get("start_date"), allocation.get("end_date")
    if not start or not end:
        return False
    return date.fromisoformat(start) <= date_to and date.fromisoformat(end) >= date_from


class KantataStaffing:
    def __init__(self, call: Call, listing: Listing, workspace_of: WorkspaceOf) -> None:
        self._call = call
        self._all = listing
        self._workspace_of = workspace_of

    async def assign(self, command: AssignmentCreate) -> Assignment:
        key = command.engagement_key
        workspace = await self._workspace_of(key)
        if workspace is None:
            raise NotFound(f"engagement {key} has no Kantata workspace", system=SYSTEM)
        workspace_id = str(workspace["id"])
        marker = assignment_marker(command.idempotency_key)
        found = await self._find_allocation(workspace_id, marker)
        if found is not None:
            return allocation_assignment(*found, key)
        resource = await self._find_resource(workspace_id, command)
        if resource is None:
            resource = await post_or_find(
                self._call,
                "workspace_resources",
                await self._resource_body(workspace_id, command),
                lambda: self._find_resource(workspace_id, command),
            )
        body = {
            "workspace_allocation": {
                "workspace_resource_id": str(resource["id"]),
                "start_date": command.start_date.isoformat(),
                "end_date": command.end_date.isoformat(),
                "percentage": command.allocation_percent,
                "hard": True,
                "notes": marker,
            }
        }

        async def again() -> Record | None:
            seen = await self._find_allocation(workspace_id, marker)
            return seen[0] if seen else None

        await post_or_find(self._call, "workspace_allocations", body, again)
        found = await self._find_allocation(workspace_id, marker)
        if found is None:
            raise NotFound(f"allocation {marker!r} was made but cannot be read", system=SYSTEM)
        return allocation_assignment(*found, key)

    async def list_allocations(self, date_from: date, date_to: date) -> list[Assignment]:
        envelope = await self._all(
            "workspace_allocations",
            {"include": "workspace_resource.role,workspace.external_references"},
        )
        refs = mapping.engagement_refs(envelope)
        found: list[Assignment] = []
        for allocation in envelope.records("workspace_allocations"):
            if not _overlaps(allocation, date_from, date_to):
                continue
            resource = envelope.get("workspace_resources", allocation["workspace_resource_id"])
            workspace_id = str((resource or {}).get("workspace_id"))
            found.append(allocation_assignment(allocation, envelope, refs.get(workspace_id)))
        return found

    async def _find_allocation(
        self, workspace_id: str, marker: str
    ) -> tuple[Record, Envelope] | None:
        envelope = await self._all(
            "workspace_allocations",
            {"workspace_id": workspace_id, "include": "workspace_resource.role"},
        )
        for allocation in envelope.records("workspace_allocations"):
            if allocation.get("notes") == marker:
                return allocation, envelope
        return None

    async def _find_resource(self, workspace_id: str, command: AssignmentCreate) -> Record | None:
        envelope = await self._all(
            "workspace_resources",
            {"workspace_id": workspace_id, "user_id": command.person_id, "include": "role"},
        )
        for resource in envelope.records("workspace_resources"):
            role = envelope.get("roles", resource.get("role_id")) or {}
            if command.role in (role.get("name"), resource.get("label")):
                return resource
        return None

    async def _resource_body(self, workspace_id: str, command: AssignmentCreate) -> dict[str, Any]:
        roles = await self._all("roles", {})
        role_id = next(
            (r["id"] for r in roles.records("roles") if r.get("name") == command.role), None
        )
        return {
            "workspace_resource": {
                "workspace_id": workspace_id,
                "user_id": command.person_id,
                "role_id": role_id,
                "label": command.role,
            }
        }
