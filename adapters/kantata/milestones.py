"""Creating milestones in Kantata: a ``milestone`` story linked to its natural key.

The key (``MS-00001``) lives where Kantata keeps foreign keys: an external
reference on the story (service ``engagement-gateway``, model ``milestone``),
as the seeded milestones have. Kantata has no idempotency key, so
`create_milestone` looks up before it writes: a story of the workspace linked
to the key is returned as it is; a story created earlier whose link was never
written (its ``description`` carries ``Milestone <key>``) is linked; only
otherwise is a story posted. A POST whose answer is lost is followed by the
same look-up. The amount is ``budget_estimate_in_cents`` in the workspace's
currency, which the read mapping uses.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from adapters.kantata import mapping
from adapters.kantata.calls import Call, Listing, WorkspaceOf, post_or_find
from adapters.kantata.envelope import SYSTEM, Record
from domain.commands import MilestoneCreate
from domain.errors import InvalidInput, NotFound
from domain.models import Milestone

__all__ = ["KantataMilestones", "milestone_marker"]


def milestone_marker(external_ref: str) -> str:
    """The story ``description`` that names the milestone before its reference exists."""
    return f"Milestone {external_ref}"


def _story_body(workspace_id: str, command: MilestoneCreate) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "workspace_id": workspace_id,
        "title": command.title,
        "description": milestone_marker(command.external_ref),
        "story_type": "milestone",
        "due_date": command.due_date.isoformat(),
        "billable": command.billable,
    }
    if command.amount is not None:
        cents = (command.amount.amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        attrs["budget_estimate_in_cents"] = int(cents)
    return {"story": attrs}


def _reference_body(story_id: str, external_ref: str) -> dict[str, Any]:
    return {
        "external_reference": {
            "subject_type": "Story",
            "subject_id": story_id,
            "service_name": mapping.SERVICE_NAME,
            "service_model": mapping.MILESTONE_MODEL,
            "service_model_ref": external_ref,
            "status": "synced",
        }
    }


class KantataMilestones:
    def __init__(self, call: Call, listing: Listing, workspace_of: WorkspaceOf) -> None:
        self._call = call
        self._all = listing
        self._workspace_of = workspace_of

    async def create(self, command: MilestoneCreate) -> Milestone:
        key, ref = command.engagement_key, command.external_ref
        workspace = await self._workspace_of(key)
        if workspace is None:
            raise NotFound(f"engagement {key} has no Kantata workspace", system=SYSTEM)
        currency = workspace.get("currency")
        if command.amount is not None and command.amount.currency != currency:
            raise InvalidInput(
                f"milestone amount is in {command.amount.currency}; the project bills in {currency}"
            )
        workspace_id = str(workspace["id"])
        linked, marked = await self._find(workspace_id, ref)
        if linked is not None:
            return mapping.milestone_from(linked, key, currency, ref)
        story = marked or await post_or_find(
            self._call,
            "stories",
            _story_body(workspace_id, command),
            lambda: self._marked(workspace_id, ref),
        )

        async def linked_now() -> Record | None:
            found, _ = await self._find(workspace_id, ref)
            return found

        await post_or_find(
            self._call, "external_references", _reference_body(str(story["id"]), ref), linked_now
        )
        return mapping.milestone_from(story, key, currency, ref)

    async def _find(self, workspace_id: str, ref: str) -> tuple[Record | None, Record | None]:
        """(the story linked to `ref`, a story marked with it but not linked)."""
        envelope = await self._all(
            "stories",
            {
                "workspace_id": workspace_id,
                "story_type": "milestone",
                "include": "external_references",
            },
        )
        refs = mapping.story_refs(envelope)
        marker = milestone_marker(ref)
        marked = None
        for story in envelope.records("stories"):
            if refs.get(str(story["id"])) == ref:
                return story, None
            if marked is None and story.get("description") == marker:
                marked = story
        return None, marked

    async def _marked(self, workspace_id: str, ref: str) -> Record | None:
        linked, marked = await self._find(workspace_id, ref)
        return linked or marked
