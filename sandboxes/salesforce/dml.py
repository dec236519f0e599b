"""Writes: body validation and the insert / update / upsert / delete rules.

A body is a JSON object of API field names (case-insensitive). Unknown fields
give INVALID_FIELD, read-only ones INVALID_FIELD_FOR_INSERT_UPDATE, a value of
the wrong JSON type JSON_PARSER_ERROR, bad picklist values
INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, missing required fields
REQUIRED_FIELD_MISSING, a taken unique value DUPLICATE_VALUE. Every write
stamps LastModifiedDate and SystemModstamp; a stage change re-derives IsWon,
IsClosed and (unless given) Probability.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandboxes.salesforce.errors import SalesforceError
from sandboxes.salesforce.ids import is_valid_id, to_18
from sandboxes.salesforce.schema import STAGES, SField, SObjectSchema, schema_for
from sandboxes.salesforce.state import OrgState, Record

__all__ = ["apply_update", "create", "delete", "validate_body"]

_MAX_DIGITS = 18  # Salesforce numbers hold at most 18 digits
_JSON_TOKEN = {bool: "VALUE_TRUE", int: "VALUE_NUMBER_INT", Decimal: "VALUE_NUMBER_FLOAT",
               str: "VALUE_STRING", list: "START_ARRAY", dict: "START_OBJECT"}  # fmt: skip


def _parser_error(field: SField, raw: Any) -> SalesforceError:
    token = "VALUE_FALSE" if raw is False else _JSON_TOKEN.get(type(raw), "VALUE_STRING")
    return SalesforceError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {field.type} from {token} value {raw} or request may "
        "be missing a required field",
    )


def _coerce(state: OrgState, field: SField, raw: Any) -> Any:
    if raw is None:
        return None
    if field.type == "boolean":
        if not isinstance(raw, bool):
            raise _parser_error(field, raw)
        return raw
    if field.is_number:
        if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
            raise _parser_error(field, raw)
        try:
            number = Decimal(raw) if not isinstance(raw, Decimal) else raw
        except InvalidOperation:
            raise _parser_error(field, raw) from None
        if not number.is_finite():
            raise _parser_error(field, raw)
        exponent = number.as_tuple().exponent
        if number.adjusted() >= _MAX_DIGITS or (
            isinstance(exponent, int) and exponent < -_MAX_DIGITS
        ):
            raise SalesforceError(
                400,
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{field.label}: value outside of valid range on numeric field: {raw}",
                [field.name],
            )
        if field.type == "int" and number != number.to_integral_value():
            raise _parser_error(field, raw)
        return number
    if not isinstance(raw, str):
        raise _parser_error(field, raw)
    if field.type == "date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _parser_error(field, raw) from None
    if field.type == "datetime":
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise _parser_error(field, raw) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if field.type == "reference":
        return _reference(state, field, raw)
    if field.length is not None and len(raw) > field.length:
        raise SalesforceError(
            400,
            "STRING_TOO_LONG",
            f"{field.label}: data value too large: {raw[:40]} (max length={field.length})",
            [field.name],
        )
    if field.restricted is not None and raw not in field.restricted:
        raise SalesforceError(
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.label}: bad value for restricted picklist field: {raw}",
            [field.name],
        )
    return raw


def _reference(state: OrgState, field: SField, raw: str) -> str:
    target = schema_for(field.reference_to or "")
    if not is_valid_id(raw) or target is None:
        raise SalesforceError(
            400, "MALFORMED_ID", f"{field.label}: id value of incorrect type: {raw}", [field.name]
        )
    if raw[:3] != target.key_prefix:
        raise SalesforceError(
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            f"{field.label}: id value of incorrect type: {raw}",
            [field.name],
        )
    if state.get(target, raw) is None:
        raise SalesforceError(
            400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field.name]
        )
    return to_18(raw)


def validate_body(
    state: OrgState, schema: SObjectSchema, body: Any, *, forbidden: str | None = None
) -> dict[str, Any]:
    """Check a write body; return {API name: value}. `forbidden` is an upsert's ext-id field."""
    if not isinstance(body, dict):
        token = "START_ARRAY" if isinstance(body, list) else "VALUE_STRING"
        raise SalesforceError(
            400,
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {schema.name} from {token} value or request may "
            "be missing a required field",
        )
    values: dict[str, Any] = {}
    read_only: list[str] = []
    for key, raw in body.items():
        if key == "attributes":
            continue
        field = schema.field(key)
        if field is None:
            raise SalesforceError(
                400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {schema.name}"
            )
        if forbidden is not None and field.name == forbidden:
            raise SalesforceError(
                400,
                "INVALID_FIELD",
                f"{field.name} should not be specified in the sobject data.",
                [field.name],
            )
        if not field.writable:
            read_only.append(field.name)
            continue
        values[field.name] = _coerce(state, field, raw)
    if read_only:
        raise SalesforceError(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(read_only)}. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set.",
            read_only,
        )
    return values


def _check_unique(state: OrgState, schema: SObjectSchema, values: dict[str, Any], own: str) -> None:
    for field in schema.fields:
        if field.unique and values.get(field.name) is not None:
            for other in state.by_external_id(schema, field.name, str(values[field.name])):
                if other["Id"] != own:
                    raise SalesforceError(
                        400,
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {field.name} duplicates value on record with "
                        f"id: {other['Id']}",
                        [field.name],
                    )


def _missing_required(schema: SObjectSchema, record: Record) -> None:
    missing = [f.name for f in schema.fields if f.required and record.get(f.name) in (None, "")]
    if missing:
        raise SalesforceError(
            400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
            missing,
        )  # fmt: skip


def _derive(schema: SObjectSchema, record: Record, values: dict[str, Any]) -> None:
    if schema.name == "Opportunity" and "StageName" in values and values["StageName"]:
        stage = STAGES[values["StageName"]]
        record["IsWon"], record["IsClosed"] = stage.is_won, stage.is_closed
        if "Probability" not in values:
            record["Probability"] = stage.probability


def _line_item_defaults(state: OrgState, schema: SObjectSchema, record: Record) -> None:
    """A line takes its opportunity's currency and name; TotalPrice = Quantity x UnitPrice."""
    if schema.name != "OpportunityLineItem":
        return
    found = state.find(record["OpportunityId"])
    if found is not None:
        record["CurrencyIsoCode"] = found[1].get("CurrencyIsoCode")
        record["Name"] = found[1].get("Name")
    if record.get("Quantity") is None:
        record["Quantity"] = Decimal(1)
    if record.get("TotalPrice") is None and record.get("UnitPrice") is not None:
        record["TotalPrice"] = record["UnitPrice"] * record["Quantity"]
    elif record.get("UnitPrice") is None and record.get("TotalPrice") is not None:
        record["UnitPrice"] = record["TotalPrice"] / record["Quantity"]


def _check_writable(schema: SObjectSchema) -> None:
    if not schema.createable:
        raise SalesforceError(403, "INSUFFICIENT_ACCESS", "insufficient access rights on object id")


def create(state: OrgState, schema: SObjectSchema, values: dict[str, Any]) -> Record:
    """Insert a validated body; return the new record."""
    _check_writable(schema)
    stamp = state.now()
    record: Record = {f.name: None for f in schema.fields}
    defaults = {"IsDeleted": False, "OwnerId": state.integration_user_id, "CurrencyIsoCode": "USD"}
    record.update({name: value for name, value in defaults.items() if name in record})
    record.update(values)
    _missing_required(schema, record)
    _check_unique(state, schema, values, own="")
    _derive(schema, record, values)
    _line_item_defaults(state, schema, record)
    record["Id"] = state.ids.mint(schema.key_prefix)
    record.update({
        "CreatedDate": stamp, "CreatedById": state.integration_user_id,
        "LastModifiedDate": stamp, "LastModifiedById": state.integration_user_id,
        "SystemModstamp": stamp,
    })  # fmt: skip
    state.insert(schema, record)
    state.changed(schema, record, "CREATE")
    return record


def apply_update(
    state: OrgState, schema: SObjectSchema, record: Record, values: dict[str, Any]
) -> None:
    """Apply a validated body to an existing record and stamp it."""
    _check_writable(schema)
    before = dict(record)
    merged = {**record, **values}
    _missing_required(schema, merged)
    _check_unique(state, schema, values, own=record["Id"])
    for name, value in values.items():
        state.set_field(schema, record, name, value)
    _derive(schema, record, values)
    stamp = state.now()
    record["LastModifiedDate"] = stamp
    record["LastModifiedById"] = state.integration_user_id
    record["SystemModstamp"] = stamp
    state.changed(schema, record, "UPDATE", before)


def delete(state: OrgState, schema: SObjectSchema, record: Record) -> None:
    _check_writable(schema)
    record["IsDeleted"] = True
    stamp = state.now()
    record["LastModifiedDate"] = stamp
    record["SystemModstamp"] = stamp
    state.changed(schema, record, "DELETE")
