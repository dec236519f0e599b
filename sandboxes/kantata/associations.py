"""Side-loading: ``include=`` associations and the ``*_ids`` fields they add.

An association names the records it brings into the envelope's per-type maps
and the id field it writes onto its owner (``participant_ids``,
``workspace_allocation_ids``, ``workspace_id`` ...). Owners carry those fields
only when the association was included, as Kantata does. Unknown include
names are ignored, as brainstem does. Dots nest (``rate_card_roles.role``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sandboxes.kantata.serialise import Maps
from sandboxes.kantata.state import KantataState

__all__ = ["Association", "IncludeTree", "belongs_to", "has_many", "parse_include", "side_load"]

Record = dict[str, Any]
IncludeTree = dict[str, "IncludeTree"]
Resolve = Callable[[KantataState, Sequence[Record]], dict[str, list[str]]]


@dataclass(frozen=True, slots=True)
class Association:
    target: str  # table / map key of the associated records
    id_field: str  # field written onto the owner when included
    many: bool
    resolve: Resolve  # owner id -> associated ids, in order


def belongs_to(target: str, id_field: str, via: str | None = None) -> Association:
    """The owner holds the associated id in `via` (default: `id_field`)."""
    source = via or id_field

    def resolve(state: KantataState, owners: Sequence[Record]) -> dict[str, list[str]]:
        return {o["id"]: [o[source]] if o.get(source) else [] for o in owners}

    return Association(target, id_field, False, resolve)


def has_many(
    target: str,
    id_field: str,
    foreign_key: str,
    where: Callable[[Record], bool] | None = None,
) -> Association:
    """Associated records point back at the owner through `foreign_key`."""

    def resolve(state: KantataState, owners: Sequence[Record]) -> dict[str, list[str]]:
        wanted = {o["id"] for o in owners}
        found: dict[str, list[str]] = {owner_id: [] for owner_id in wanted}
        for record in state.table(target).values():
            owner_id = str(record.get(foreign_key))
            if owner_id in wanted and (where is None or where(record)):
                found[owner_id].append(record["id"])
        return found

    return Association(target, id_field, True, resolve)


def parse_include(raw: str | None) -> IncludeTree:
    tree: IncludeTree = {}
    for item in (raw or "").split(","):
        node = tree
        for name in item.strip().split("."):
            if not name:
                break
            node = node.setdefault(name, {})
    return tree


def _entry(state: KantataState, maps: Maps, key: str, record_id: str) -> Record | None:
    bucket = maps.setdefault(key, {})
    record = bucket.get(record_id)
    if record is None:
        stored = state.table(key).get(record_id)
        if stored is None:
            return None
        record = bucket[record_id] = dict(stored)
    return record


def side_load(
    state: KantataState,
    registry: Mapping[str, Mapping[str, Association]],
    key: str,
    owners: Sequence[Record],
    include: IncludeTree,
    maps: Maps,
) -> None:
    """Add included associations of `owners` (records already in `maps`) into `maps`."""
    associations = registry.get(key, {})
    for name, nested in include.items():
        association = associations.get(name)
        if association is None:
            continue
        resolved = association.resolve(state, owners)
        loaded: list[Record] = []
        seen: set[str] = set()
        for owner in owners:
            ids = resolved.get(owner["id"], [])
            owner[association.id_field] = ids if association.many else (ids[0] if ids else None)
            for record_id in ids:
                record = _entry(state, maps, association.target, record_id)
                if record is not None and record_id not in seen:
                    seen.add(record_id)
                    loaded.append(record)
        if nested and loaded:
            side_load(state, registry, association.target, loaded, nested, maps)
