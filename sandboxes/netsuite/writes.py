"""Record writes: create, update (PATCH), upsert by external ID, delete.

A write works on a copy and commits only when the whole body is valid, so a
400 changes nothing. Every committed write advances ``lastModifiedDate``.
Server-side derivations follow NetSuite: defaults sourced from the customer
(subsidiary, currency), invoice totals and ``amountRemaining``/``status``
from the item lines and applied payments, sublist lines merged by ``line``
unless ``?replace=<sublist>``.
"""

from __future__ import annotations

from typing import Any

from sandboxes.netsuite.amounts import check_money_places
from sandboxes.netsuite.derive import derive, recompute_invoice
from sandboxes.netsuite.errors import NsError, bad_request
from sandboxes.netsuite.schema import SPECS, RecordSpec
from sandboxes.netsuite.state import Record, Store
from sandboxes.netsuite.values import coerce

__all__ = ["create", "delete", "update", "upsert"]

_IGNORED = frozenset({"links", "refName"})


def _copy(record: Record) -> Record:
    return {k: [dict(line) for line in v] if isinstance(v, list) else v for k, v in record.items()}


def _unknown(record_type: str, name: str) -> NsError:
    return bad_request(
        "INVALID_CONTENT",
        f"Invalid content in the request body. '{name}' is not a valid field "
        f"of the record type '{record_type}'.",
        name,
    )


def _sublist(
    store: Store, spec: RecordSpec, name: str, value: Any, current: list[Record], replace: bool
) -> list[Record]:
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        raise bad_request(
            "INVALID_CONTENT",
            f"Invalid content in the request body. The sublist '{name}' expects "
            '{"items": [...]}.',
            name,
        )
    fields = spec.sublists[name]
    lines = [] if replace else [dict(line) for line in current]
    by_number = {line["line"]: line for line in lines}
    next_number = max(by_number, default=0) + 1
    for index, raw in enumerate(value["items"]):
        path = f"{name}.items[{index}]"
        if not isinstance(raw, dict):
            raise bad_request("INVALID_CONTENT", f"Invalid content at '{path}'.", path)
        number = raw.get("line")
        target = by_number.get(number) if isinstance(number, int) else None
        if target is None:
            target = {"line": next_number}
            next_number += 1
            lines.append(target)
        for key, item in raw.items():
            if key == "line" or key in _IGNORED:
                continue
            if key not in fields:
                raise _unknown(spec.name, f"{path}.{key}")
            target[key] = coerce(store, fields[key], item, f"{path}.{key}")
        for key, field_spec in fields.items():
            if field_spec.mandatory and target.get(key) is None:
                raise bad_request(
                    "USER_ERROR", f"Please enter value(s) for: {field_spec.label}.", f"{path}.{key}"
                )
    return lines


def _apply(
    store: Store, spec: RecordSpec, record: Record, body: Any, replace: frozenset[str]
) -> None:
    if not isinstance(body, dict):
        raise bad_request(
            "INVALID_CONTENT", "Invalid content in the request body: expected a JSON object."
        )
    for name, value in body.items():
        if name in _IGNORED:
            continue
        if name in spec.sublists:
            record[name] = _sublist(store, spec, name, value, record.get(name, []), name in replace)
        elif name in spec.fields:
            record[name] = coerce(store, spec.fields[name], value, name)
        else:
            raise _unknown(spec.name, name)


def _commit(store: Store, record_type: str, record: Record, old: Record | None) -> None:
    spec = SPECS[record_type]
    for name, field_spec in spec.fields.items():
        if field_spec.mandatory and record.get(name) is None:
            raise bad_request("USER_ERROR", f"Please enter value(s) for: {field_spec.label}.", name)
    for name in [name for name, value in record.items() if value is None]:
        del record[name]
    external = record.get("externalId")
    changed = old is None or old.get("externalId") != external
    if external is not None and changed and store.by_external(record_type, external) is not None:
        raise bad_request(
            "DUP_RECORD",
            f"A record with the external ID '{external}' already exists.",
            "externalId",
        )
    touched = derive(store, record_type, record)
    check_money_places(store, spec, record)
    for name in [name for name, value in record.items() if value is None]:
        del record[name]
    stamp = store.stamp()
    record["lastModifiedDate"] = stamp
    if old is None:
        created = "createdDate" if spec.id_space == "transaction" else "dateCreated"
        if created in spec.fields:
            record[created] = stamp
    if old is None:
        store.insert(record_type, record)
    else:
        store.records[record_type][record["id"]] = record
        store.reindex_external(record_type, record, old.get("externalId"))
        store.touched()
    for invoice_id in touched:
        recompute_invoice(store, invoice_id, stamp)


def create(store: Store, record_type: str, body: Any) -> Record:
    spec = SPECS[record_type]
    record: Record = {}
    _apply(store, spec, record, body, frozenset())
    record["id"] = store.mint(record_type)
    record.setdefault("isInactive", False)
    _commit(store, record_type, record, None)
    return record


def update(
    store: Store, record_type: str, record: Record, body: Any, replace: frozenset[str]
) -> Record:
    changed = _copy(record)
    _apply(store, SPECS[record_type], changed, body, replace)
    _commit(store, record_type, changed, record)
    return changed


def upsert(store: Store, record_type: str, external_id: str, body: Any) -> Record:
    if isinstance(body, dict) and "externalId" in body:
        raise bad_request(
            "INVALID_CONTENT",
            "Invalid content in the request body. The externalId is taken from the URL "
            "and must not be present in the body of an upsert.",
            "externalId",
        )
    existing = store.by_external(record_type, external_id)
    if existing is not None:
        return update(store, record_type, existing, body, frozenset())
    if isinstance(body, dict):
        body = {**body, "externalId": external_id}
    return create(store, record_type, body)


def delete(store: Store, record_type: str, record: Record) -> None:
    if _has_dependents(store, record_type, record["id"]):
        raise bad_request(
            "USER_ERROR", "This record cannot be deleted because it has dependent records."
        )
    store.remove(record_type, record)
    if record_type == "customerPayment":
        stamp = store.stamp()
        for line in record.get("apply", []):
            recompute_invoice(store, line["doc"], stamp)


def _has_dependents(store: Store, record_type: str, record_id: str) -> bool:
    for other_type, spec in SPECS.items():
        ref_fields = [
            n for n, f in spec.fields.items() if f.kind == "ref" and record_type in f.refs
        ]
        ref_lines = [
            (s, n) for s, fs in spec.sublists.items()
            for n, f in fs.items() if f.kind == "ref" and record_type in f.refs
        ]  # fmt: skip
        if not ref_fields and not ref_lines:
            continue
        for other in store.records[other_type].values():
            if any(other.get(name) == record_id for name in ref_fields):
                return True
            if any(line.get(n) == record_id for s, n in ref_lines for line in other.get(s, [])):
                return True
    return False
