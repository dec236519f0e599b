"""Index queries: paging, ``only=``, filters, ``order=`` and the listing itself.

``per_page`` defaults to 20 and may be at most 200. Above that the sandbox
answers 422 with a validation error on ``per_page``: real Kantata (brainstem)
clamps silently, but a clamp would hide an adapter that asks for more than a
page can hold, so the sandbox is strict here on purpose. Non-numeric or
non-positive ``page``/``per_page`` are 422 as well. ``order`` is
``field:asc|desc`` over the resource's sortable fields; records tie-break by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandboxes.kantata.associations import IncludeTree, parse_include
from sandboxes.kantata.errors import validation
from sandboxes.kantata.resources import Predicate, Resource
from sandboxes.kantata.state import KantataState

__all__ = ["DEFAULT_PER_PAGE", "MAX_PER_PAGE", "ListQuery", "parse_list_query", "select"]

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ListQuery:
    page: int
    per_page: int
    include: IncludeTree
    order: tuple[str, bool]  # (field, descending)
    predicates: tuple[Predicate, ...]


def _positive_int(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation(name, f"{name} must be a positive integer") from None
    if value < 1:
        raise validation(name, f"{name} must be a positive integer")
    return value


def _order(params: Mapping[str, str], resource: Resource) -> tuple[str, bool]:
    raw = params.get("order")
    if not raw:
        return ("id", False)
    name, _, direction = raw.partition(":")
    direction = direction or "asc"
    if name not in resource.orders or direction not in ("asc", "desc"):
        allowed = ", ".join(sorted(resource.orders))
        raise validation("order", f"order must be one of {allowed} with :asc or :desc")
    return (name, direction == "desc")


def parse_list_query(
    state: KantataState, resource: Resource, params: Mapping[str, str]
) -> ListQuery:
    page = _positive_int(params, "page", 1)
    per_page = _positive_int(params, "per_page", DEFAULT_PER_PAGE)
    if per_page > MAX_PER_PAGE:
        raise validation("per_page", f"per_page must be at most {MAX_PER_PAGE}; got {per_page}")
    predicates = tuple(
        factory(state, name, params[name])
        for name, factory in resource.filters.items()
        if name in params
    )
    return ListQuery(
        page=page,
        per_page=per_page,
        include=parse_include(params.get("include")),
        order=_order(params, resource),
        predicates=predicates,
    )


def _sort_key(name: str) -> Any:
    def key(record: Record) -> tuple[Any, ...]:
        value = record.get(name)
        numeric_id = int(record["id"]) if str(record["id"]).isdigit() else 0
        if name == "id":
            return (numeric_id,)
        if isinstance(value, str) and name.endswith("_at"):
            value = datetime.fromisoformat(value)
        return (value is None, value if value is not None else 0, numeric_id)

    return key


def select(state: KantataState, resource: Resource, query: ListQuery) -> tuple[list[Record], int]:
    """The records of the requested page and the total count."""
    matching = [
        record
        for record in state.table(resource.key).values()
        if all(predicate(record) for predicate in query.predicates)
    ]
    name, descending = query.order
    matching.sort(key=_sort_key(name), reverse=descending)
    start = (query.page - 1) * query.per_page
    return matching[start : start + query.per_page], len(matching)
