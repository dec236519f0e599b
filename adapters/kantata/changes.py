"""Milestones changed since a watermark, and milestones by id (inbound sync).

The poll is ``GET /stories.json?story_type=milestone&updated_after=<since>&order=
updated_at:asc`` (vendor-apis §2, "Change feed / polling"), each story with its
workspace and both their external references side-loaded, so one call per page maps
a story to its milestone key and its workspace's engagement key and currency. It
pages by key, not by page number: a story updated while the pages are read moves to
the end of the order, and page numbers would then skip the story that slides into
its place; so each page is a fresh query from one second before the last
``updated_at`` read (Kantata stamps to the second, so ties at the edge are read
again, deduplicated by id). A page entirely inside one second is read on by page
number.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.kantata import mapping
from adapters.kantata.envelope import Envelope
from domain.ids import RecordId
from domain.models import Milestone

__all__ = ["MilestoneFeed"]

PageCall = Callable[[dict[str, Any]], Awaitable[Envelope]]
Batched = Callable[[str, Sequence[str], dict[str, Any]], Awaitable[Envelope]]

_MILESTONES = {
    "story_type": "milestone",
    "include": "workspace.external_references,external_references",
}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def milestones_of(envelope: Envelope) -> list[Milestone]:
    """The envelope's milestone stories, each with its key, engagement and currency."""
    workspace_keys = mapping.engagement_refs(envelope)
    story_keys = mapping.story_refs(envelope)
    found: list[Milestone] = []
    for story in envelope.records("stories"):
        workspace = envelope.get("workspaces", story.get("workspace_id")) or {}
        found.append(
            mapping.milestone_from(
                story,
                workspace_keys.get(str(story.get("workspace_id"))),
                workspace.get("currency"),
                story_keys.get(str(story["id"])),
            )
        )
    return found


class MilestoneFeed:
    def __init__(self, page: PageCall, batched: Batched, per_page: int) -> None:
        self._page = page  # GET stories.json with these params
        self._batched = batched
        self._per_page = per_page

    async def changed_since(self, since: datetime | None) -> list[Milestone]:
        merged = Envelope()
        cursor = since
        while True:
            params: dict[str, Any] = {**_MILESTONES, "order": "updated_at:asc"}
            if cursor is not None:
                params["updated_after"] = cursor.astimezone(UTC).isoformat(timespec="seconds")
            page = await self._page({**params, "page": 1, "per_page": self._per_page})
            merged.absorb(page)
            if page.page_count <= 1:
                break
            stamps = [_moment(s.get("updated_at")) for s in page.records("stories")]
            last = max((s for s in stamps if s is not None), default=None)
            step = last - timedelta(seconds=1) if last is not None else None
            if step is None or (cursor is not None and step <= cursor):
                for number in range(2, page.page_count + 1):
                    merged.absorb(
                        await self._page({**params, "page": number, "per_page": self._per_page})
                    )
                break
            cursor = step
        unique = {story["id"]: story for story in merged.records("stories")}
        merged.results = [("stories", story_id) for story_id in unique]
        milestones = milestones_of(merged)
        return sorted(milestones, key=lambda m: (m.modified_at or _EPOCH, int(m.id)))

    async def by_id(self, ids: Sequence[RecordId]) -> list[Milestone]:
        wanted = [i for i in ids if str(i).isdigit()]
        if not wanted:
            return []
        return milestones_of(await self._batched("stories", wanted, dict(_MILESTONES)))
