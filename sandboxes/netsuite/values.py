"""Checking one written field value against its spec (NetSuite's 400 answers).

Wrong JSON type → ``INVALID_CONTENT``; a value of the right type that the
account does not accept (unknown reference, unknown list value, bad date,
a number out of range or too precise — see `sandboxes.netsuite.amounts`)
→ ``INVALID_VALUE`` with ``o:errorPath``; writing a read-only field →
``USER_ERROR``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sandboxes.netsuite.amounts import NUMBER_PLACES, check_number
from sandboxes.netsuite.errors import NsError, bad_request
from sandboxes.netsuite.schema import FieldSpec
from sandboxes.netsuite.state import Store

__all__ = ["coerce", "invalid_value", "resolve_ref"]


def invalid_value(path: str) -> NsError:
    return bad_request(
        "INVALID_VALUE",
        f"Invalid value for the resource or sub-resource field '{path}'. Provide a valid value.",
        path,
    )


def _wrong_type(path: str, expected: str) -> NsError:
    return bad_request(
        "INVALID_CONTENT",
        f"Invalid content in the request body. The field '{path}' expects {expected}.",
        path,
    )


def resolve_ref(store: Store, types: tuple[str, ...], value: Any, path: str) -> str:
    """Resolve ``{"id": ..}`` or ``{"externalId": ..}`` to an existing record id."""
    if not isinstance(value, dict) or not value.keys() <= {"id", "externalId", "refName", "links"}:
        raise _wrong_type(path, 'a reference object such as {"id": "5"}')
    if "id" in value:
        raw = value["id"]
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise _wrong_type(f"{path}.id", "a string")
        found = store.find(types, str(raw))
        if found is None:
            raise invalid_value(path)
        return str(raw)
    external = value.get("externalId")
    if not isinstance(external, str):
        raise _wrong_type(path, 'a reference object such as {"id": "5"}')
    for record_type in types:
        record = store.by_external(record_type, external)
        if record is not None:
            return str(record["id"])
    raise invalid_value(path)


def coerce(store: Store, spec: FieldSpec, value: Any, path: str) -> Any:
    """The internal value of a written field, or an `NsError` saying why not."""
    if spec.read_only:
        raise bad_request("USER_ERROR", f"The field '{path}' is read-only and cannot be set.", path)
    if value is None:
        if spec.mandatory:
            raise bad_request("USER_ERROR", f"Please enter value(s) for: {spec.label}.", path)
        return None
    kind = spec.kind
    if kind == "text":
        if not isinstance(value, str):
            raise _wrong_type(path, "a string")
        if spec.allowed and value not in spec.allowed:
            raise invalid_value(path)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _wrong_type(path, "a boolean")
        return value
    if kind == "date":
        if not isinstance(value, str):
            raise _wrong_type(path, "a date string (YYYY-MM-DD)")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise invalid_value(path) from None
    if kind in ("money", "rate", "number"):
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise _wrong_type(path, "a number")
        # money decimals depend on the record's currency: checked after derivation
        places = None if kind == "money" else NUMBER_PLACES
        return check_number(Decimal(value), path, places)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(path, "an integer")
        return value
    if kind == "ref":
        return resolve_ref(store, spec.refs, value, path)
    if kind == "select":
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise _wrong_type(path, 'a list value such as {"id": "A"}')
        if value["id"] not in spec.options:
            raise invalid_value(path)
        return value["id"]
    raise _wrong_type(path, kind)  # datetime fields are all read-only
