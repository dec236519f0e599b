"""Records as NetSuite writes them: references with refName and links, empty fields omitted.

Without ``expandSubResources`` a sublist is only ``{"links": [...]}``; with it,
the lines are inlined as a collection. ``fields=a,b`` keeps only those body
fields and sublists (plus ``id`` and ``links``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sandboxes.netsuite.schema import SPECS, FieldSpec
from sandboxes.netsuite.state import Record, Store

__all__ = ["RECORD_ROOT", "format_datetime", "record_path", "render_record", "render_sublist"]

RECORD_ROOT = "/services/rest/record/v1"


def record_path(record_type: str, record_id: str) -> str:
    return f"{RECORD_ROOT}/{record_type}/{record_id}"


def format_datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _self(href: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": href}]


def _value(store: Store, base: str, spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "ref":
        found = store.find(spec.refs, value)
        target = found[0] if found else spec.refs[0]
        return {
            "id": value,
            "refName": store.ref_name(target, value),
            "links": _self(base + record_path(target, value)),
        }
    if spec.kind == "select":
        return {"id": value, "refName": spec.options.get(value, value)}
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def render_sublist(
    store: Store, base: str, record_type: str, record: Record, name: str, *, expand: bool
) -> dict[str, Any]:
    href = f"{base}{record_path(record_type, record['id'])}/{name}"
    if not expand:
        return {"links": _self(href)}
    fields = SPECS[record_type].sublists[name]
    lines = record.get(name, [])
    items = [
        {"links": [], **{
            key: _value(store, base, fields[key], line[key]) for key in fields if key in line
        }}
        for line in lines
    ]  # fmt: skip
    return {
        "links": _self(href),
        "count": len(items),
        "hasMore": False,
        "items": items,
        "offset": 0,
        "totalResults": len(items),
    }


def render_record(
    store: Store,
    base: str,
    record_type: str,
    record: Record,
    *,
    fields: set[str] | None = None,
    expand: bool = False,
) -> dict[str, Any]:
    spec = SPECS[record_type]
    body: dict[str, Any] = {
        "links": _self(base + record_path(record_type, record["id"])),
        "id": record["id"],
    }
    for name in sorted([*spec.fields, *spec.sublists]):
        if fields is not None and name not in fields:
            continue
        if name in spec.sublists:
            body[name] = render_sublist(store, base, record_type, record, name, expand=expand)
        elif record.get(name) is not None:
            body[name] = _value(store, base, spec.fields[name], record[name])
    return body
