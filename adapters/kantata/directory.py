"""The workspace directory: engagement key → Kantata workspace id, for a while.

Milestones and staffing are read by workspace id, but asked for by engagement
key. Without a directory every such read first costs a look-up of the
workspaces by external reference, so two calls where a query level has a
budget of one. The directory remembers what reads have already seen.

Why it is safe to remember:

* The workspace id of an engagement never changes. The link is an external
  reference written once, by `create_project`, and a workspace keeps its id,
  so a remembered id is never wrong, only possibly old. (If the vendor ever
  shows two workspaces linked to one key, the first one seen is used;
  `create_project` never makes a second.)
* A key looked up and not found is remembered as absent, so an unknown key
  does not cost a look-up on every request. That answer can go stale only
  when the engagement's workspace is created; through this adapter,
  `create_project` records the new workspace at once, and otherwise a stale
  "absent" lasts at most the TTL.

Entries expire ``ttl_s`` after they were last seen, on the adapter's
injectable clock; ``ttl_s <= 0`` turns the directory off. It belongs to one
adapter instance (no module-level state) and holds at most ``max_entries``
keys, dropping expired and then least recently seen entries beyond that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from domain.ids import EngagementKey, RecordId

__all__ = ["DEFAULT_TTL_S", "MAX_ENTRIES", "WorkspaceDirectory"]

DEFAULT_TTL_S = 300.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Entry:
    workspace_id: RecordId | None  # None: looked up and found absent
    expires_at: float


class WorkspaceDirectory:
    """Engagement key → workspace id (or known absence), each kept for `ttl_s`."""

    def __init__(
        self, ttl_s: float, clock: Callable[[], float], *, max_entries: int = MAX_ENTRIES
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._max_entries = max(1, max_entries)
        self._entries: dict[EngagementKey, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def resolve(
        self, keys: Sequence[EngagementKey]
    ) -> tuple[dict[EngagementKey, RecordId], list[EngagementKey]]:
        """(workspace ids known for `keys`, keys to look up), in key order.

        Keys remembered as absent are in neither: they need no look-up.
        """
        now = self._clock()
        known: dict[EngagementKey, RecordId] = {}
        missing: list[EngagementKey] = []
        for key in dict.fromkeys(keys):
            entry = self._entries.get(key)
            if entry is None or entry.expires_at <= now:
                missing.append(key)
            elif entry.workspace_id is not None:
                known[key] = entry.workspace_id
        return known, missing

    def learn(
        self, found: Mapping[EngagementKey, RecordId], absent: Iterable[EngagementKey] = ()
    ) -> None:
        """Remember the workspaces `found` and the keys looked up but `absent`."""
        if self._ttl_s <= 0:
            return
        expires_at = self._clock() + self._ttl_s
        for key, workspace_id in found.items():
            self._put(key, _Entry(workspace_id, expires_at))
        for key in absent:
            if key not in found:
                self._put(key, _Entry(None, expires_at))
        self._trim()

    def _put(self, key: EngagementKey, entry: _Entry) -> None:
        self._entries.pop(key, None)  # re-insert: dict order is least recently seen first
        self._entries[key] = entry

    def _trim(self) -> None:
        if len(self._entries) <= self._max_entries:
            return
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[key]
        while len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]
