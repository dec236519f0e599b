"""The Kantata OX adapter: the PSA port over Kantata's API v1.

Batch reads use ``only=`` (by id) and ``external_reference_service_model_refs=``
(by engagement key) in chunks of 200 with ``per_page=200``, and follow
``meta.page_number``/``meta.page_count`` to the end. Staffing is read from
workspace resources with their allocations and roles side-loaded.

`create_project` is idempotent by look-up, since Kantata has no idempotency
key: it first looks for the workspace linked to the engagement by an
external reference, then for a workspace created earlier whose link was never
written (its description carries the engagement key), and creates only what
is missing. The POSTs themselves are never retried blindly; a replayed
command converges on one workspace with one reference. Accepting a milestone
is a PUT that sets a state, so it is idempotent and may be retried; the
sandbox, like the model it follows, lets any milestone be accepted whatever
its state (whether Kantata refuses a not-completed one is unverified).
Staffing writes and milestone creation follow the same look-up-first rule
(`adapters.kantata.staffing`, `adapters.kantata.milestones`); a milestone's
natural key is the external reference on its story.

Milestones and staffing are asked for by engagement key but stored by
workspace, so the adapter keeps a `WorkspaceDirectory` (engagement key →
workspace id, and keys known absent) filled by every read that sees workspaces
with their external references, for ``directory_ttl_s`` on its ``clock``. This
is safe because an engagement's workspace id never changes; a stale "absent"
lasts at most the TTL, and `create_project` records its workspace at once
(see `adapters.kantata.directory`). A warm `get_milestones`/`get_assignments`
is one listing per chunk of 200 workspace ids; keys the directory lacks cost
one batched look-up first. `create_project` itself always looks up afresh.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any

import httpx

from adapters.http import BearerToken, VendorClient
from adapters.kantata import mapping
from adapters.kantata.changes import MilestoneFeed
from adapters.kantata.directory import DEFAULT_TTL_S, WorkspaceDirectory
from adapters.kantata.envelope import SYSTEM, Envelope, Record, parse_envelope
from adapters.kantata.errors import is_throttled, translate_error
from adapters.kantata.milestones import KantataMilestones
from adapters.kantata.staffing import KantataStaffing
from adapters.resilience import CircuitBreaker, ResiliencePolicy
from domain.commands import AssignmentCreate, MilestoneCreate, ProjectCreate
from domain.errors import MappingFailed
from domain.health import BreakerState, SystemHealth
from domain.ids import EngagementKey, RecordId
from domain.models import Assignment, Milestone, Person, Project, RateCard
from domain.ports import PSA

__all__ = ["API_PREFIX", "MAX_BATCH", "KantataAdapter"]

API_PREFIX = "/api/v1"
MAX_BATCH = 200  # ids per only= / refs per external_reference_service_model_refs=
MAX_PAGES = 10_000


def _chunks(values: Sequence[str], size: int) -> list[list[str]]:
    unique = list(dict.fromkeys(values))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


class KantataAdapter:
    """PSA port implementation for Kantata OX (ex-Mavenlink)."""

    name = "kantata"

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        policy: ResiliencePolicy,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        page_size: int = MAX_BATCH,
        directory_ttl_s: float = DEFAULT_TTL_S,
    ) -> None:
        root = base_url.rstrip("/")
        self._prefix = "" if root.endswith(API_PREFIX) else API_PREFIX
        self._page_size = max(1, min(page_size, MAX_BATCH))
        self._directory = WorkspaceDirectory(directory_ttl_s, clock)
        self._http = VendorClient(
            system=SYSTEM,
            base_url=root,
            policy=policy,
            translate=translate_error,
            credentials=BearerToken(token),
            transport=transport,
            headers={"Accept": "application/json"},
            is_throttled=is_throttled,
            sleep=sleep,
            rng=rng,
            breaker=CircuitBreaker.from_policy(policy, clock),
        )
        self._staffing = KantataStaffing(self._call, self._all, self._workspace_of)
        self._milestones = KantataMilestones(self._call, self._all, self._workspace_of)
        self._milestone_feed = MilestoneFeed(
            lambda params: self._call("GET", "stories", params=params),
            lambda resource, ids, params: self._batched(resource, "only", ids, params),
            self._page_size,
        )

    @property
    def breaker(self) -> CircuitBreaker:
        return self._http.breaker

    @property
    def breaker_state(self) -> BreakerState:
        return self._http.breaker_state

    async def aclose(self) -> None:
        await self._http.aclose()

    async def health(self) -> SystemHealth:
        return await self._http.probe("GET", f"{self._prefix}/users/me.json")

    # -- transport helpers -------------------------------------------------

    async def _call(
        self,
        method: str,
        resource: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Envelope:
        response = await self._http.request(
            method,
            f"{self._prefix}/{resource}.json",
            params=params,
            json=json,
            idempotent=idempotent,
        )
        return parse_envelope(response.content)

    async def _all(self, resource: str, params: dict[str, Any]) -> Envelope:
        """Every page of a listing, absorbed into one envelope."""
        merged = Envelope()
        for page in range(1, MAX_PAGES + 1):
            envelope = await self._call(
                "GET", resource, params={**params, "page": page, "per_page": self._page_size}
            )
            merged.absorb(envelope)
            if envelope.page_number >= envelope.page_count:
                return merged
        raise MappingFailed(f"{resource} did not end after {MAX_PAGES} pages", system=SYSTEM)

    async def _batched(
        self, resource: str, name: str, values: Sequence[str], params: dict[str, Any]
    ) -> Envelope:
        """One listing per chunk of ≤200 values, fanned out concurrently."""
        merged = Envelope()
        pages = await asyncio.gather(
            *(
                self._all(resource, {**params, name: ",".join(c)})
                for c in _chunks(values, MAX_BATCH)
            )
        )
        for envelope in pages:
            merged.absorb(envelope)
        return merged

    def _remember(self, envelope: Envelope) -> None:
        """Put the workspaces an answer shows with their references in the directory."""
        self._directory.learn(mapping.workspace_ids_by_key(envelope))

    async def _look_up(
        self, keys: Sequence[EngagementKey]
    ) -> tuple[Envelope, dict[EngagementKey, RecordId]]:
        """Workspaces linked to `keys` (fresh), remembering found and absent keys."""
        envelope = await self._batched(
            "workspaces",
            "external_reference_service_model_refs",
            keys,
            {"include": "external_references"},
        )
        wanted = set(keys)
        found = {
            key: workspace_id
            for key, workspace_id in mapping.workspace_ids_by_key(envelope).items()
            if key in wanted
        }
        self._directory.learn(found, absent=keys)
        return envelope, found

    async def _workspace_of(self, key: EngagementKey) -> Record | None:
        """The workspace linked to `key`, looked up afresh (writes never trust the directory)."""
        envelope, found = await self._look_up([key])
        return envelope.get("workspaces", found[key]) if key in found else None

    async def _linked_workspaces(
        self, keys: Sequence[EngagementKey]
    ) -> list[tuple[Record, EngagementKey]]:
        """Workspaces linked to the engagement keys, with the key of each."""
        envelope, _ = await self._look_up(keys)
        refs = mapping.engagement_refs(envelope)
        wanted = set(keys)
        return [
            (workspace, refs[workspace["id"]])
            for workspace in envelope.records("workspaces")
            if refs.get(workspace["id"]) in wanted
        ]

    async def _workspace_ids(self, keys: Sequence[EngagementKey]) -> dict[str, EngagementKey]:
        """Workspace id -> engagement key for `keys`: the directory, then one look-up."""
        known, missing = self._directory.resolve(keys)
        if missing:
            _, found = await self._look_up(missing)
            known.update(found)
        return {str(workspace_id): key for key, workspace_id in known.items()}

    # -- reads ---------------------------------------------------------------

    async def get_project(self, project_id: RecordId) -> Project:
        envelope = await self._call(
            "GET", f"workspaces/{project_id}", params={"include": "external_references"}
        )
        self._remember(envelope)
        refs = mapping.engagement_refs(envelope)
        workspace = envelope.first("workspaces")
        return mapping.project_from(workspace, refs.get(workspace["id"]))

    async def get_projects(self, ids: Sequence[RecordId]) -> list[Project]:
        envelope = await self._batched(
            "workspaces", "only", ids, {"include": "external_references"}
        )
        self._remember(envelope)
        refs = mapping.engagement_refs(envelope)
        return [mapping.project_from(w, refs.get(w["id"])) for w in envelope.records("workspaces")]

    async def get_projects_by_engagement(self, keys: Sequence[EngagementKey]) -> list[Project]:
        return [mapping.project_from(w, key) for w, key in await self._linked_workspaces(keys)]

    async def get_people(self, ids: Sequence[RecordId]) -> list[Person]:
        envelope = await self._batched("users", "only", ids, {})
        return [mapping.person_from(user) for user in envelope.records("users")]

    async def list_people(self) -> list[Person]:
        envelope = await self._all("users", {})
        return [mapping.person_from(user) for user in envelope.records("users")]

    async def get_assignments(self, keys: Sequence[EngagementKey]) -> list[Assignment]:
        linked = await self._workspace_ids(keys)
        if not linked:
            return []
        envelope = await self._batched(
            "workspace_resources",
            "workspace_id",
            list(linked),
            {"include": "role,workspace_allocations"},
        )
        return [
            mapping.assignment_from(resource, envelope, linked.get(str(resource["workspace_id"])))
            for resource in envelope.records("workspace_resources")
        ]

    async def get_milestones(self, keys: Sequence[EngagementKey]) -> list[Milestone]:
        linked = await self._workspace_ids(keys)
        if not linked:
            return []
        envelope = await self._batched(
            "stories",
            "workspace_id",
            list(linked),
            {"story_type": "milestone", "include": "workspace,external_references"},
        )
        refs = mapping.story_refs(envelope)
        milestones: list[Milestone] = []
        for story in envelope.records("stories"):
            workspace_id = str(story.get("workspace_id"))
            workspace = envelope.get("workspaces", workspace_id) or {}
            key = linked.get(workspace_id)
            milestones.append(
                mapping.milestone_from(
                    story, key, workspace.get("currency"), refs.get(str(story["id"]))
                )
            )
        return milestones

    async def milestones_changed_since(self, since: datetime | None) -> list[Milestone]:
        """Milestones updated after `since`, oldest first (`adapters.kantata.changes`)."""
        return await self._milestone_feed.changed_since(since)

    async def get_milestones_by_id(self, ids: Sequence[RecordId]) -> list[Milestone]:
        return await self._milestone_feed.by_id(ids)

    async def list_rate_cards(self) -> list[RateCard]:
        envelope = await self._all(
            "rate_card_set_versions", {"include": "rate_card_roles.role,rate_card_set"}
        )
        return [
            mapping.rate_card_from(version, envelope)
            for version in envelope.records("rate_card_set_versions")
        ]

    # -- writes --------------------------------------------------------------

    async def create_project(self, command: ProjectCreate) -> Project:
        key = command.engagement_key
        linked = await self._linked_workspaces([key])
        if linked:
            workspace, _ = linked[0]
            return mapping.project_from(workspace, key)
        orphans = await self._all("workspaces", {"matching": key})
        marked = [w for w in orphans.records("workspaces") if mapping.marks_engagement(w, key)]
        if marked:
            workspace = marked[0]
        else:
            created = await self._call(
                "POST", "workspaces", json=mapping.workspace_body(command), idempotent=False
            )
            workspace = created.first("workspaces")
        workspace_id = RecordId(str(workspace["id"]))
        await self._call(
            "POST",
            "external_references",
            json=mapping.external_reference_body(workspace_id, key),
            idempotent=False,
        )
        self._directory.learn({key: workspace_id})
        return mapping.project_from(workspace, key)

    async def accept_milestone(self, milestone_id: RecordId) -> Milestone:
        updated = await self._call(
            "PUT",
            f"stories/{milestone_id}",
            params={"include": "external_references"},
            json=mapping.accept_story_body(),
        )
        story = updated.first("stories")
        external_ref = mapping.story_refs(updated).get(str(story["id"]))
        owner = await self._call(
            "GET", f"workspaces/{story['workspace_id']}", params={"include": "external_references"}
        )
        self._remember(owner)
        workspace = owner.first("workspaces")
        key = mapping.engagement_refs(owner).get(workspace["id"])
        return mapping.milestone_from(story, key, workspace.get("currency"), external_ref)

    async def archive_project(self, project_id: RecordId) -> Project:
        """Archive the workspace (a PUT setting a state: idempotent, retried like a read)."""
        updated = await self._call(
            "PUT",
            f"workspaces/{project_id}",
            params={"include": "external_references"},
            json={"workspace": {"archived": True}},
        )
        self._remember(updated)
        workspace = updated.first("workspaces")
        return mapping.project_from(
            workspace, mapping.engagement_refs(updated).get(workspace["id"])
        )

    async def assign_resource(self, command: AssignmentCreate) -> Assignment:
        return await self._staffing.assign(command)

    async def list_allocations(self, date_from: date, date_to: date) -> list[Assignment]:
        """Allocations overlapping the window, filtered client-side (no vendor date filter)."""
        return await self._staffing.list_allocations(date_from, date_to)

    async def create_milestone(self, command: MilestoneCreate) -> Milestone:
        return await self._milestones.create(command)


_check: type[PSA] = KantataAdapter
