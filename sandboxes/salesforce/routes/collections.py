"""sObject Collections: many records in one call.

- ``POST|GET /composite/sobjects/{T}`` retrieve ``{"ids": [..], "fields": [..]}``
  (≤2000 ids): an array in request order with ``null`` for missing ids.
- ``POST /composite/sobjects`` create and ``PATCH /composite/sobjects`` update
  ``{"allOrNone": bool, "records": [{"attributes": {"type": ..}, ..}]}`` (≤200):
  one ``{id, success, errors}`` per record, in order; with ``allOrNone`` one
  failure rolls every record back.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.salesforce.dml import apply_update, create, validate_body
from sandboxes.salesforce.errors import SalesforceError
from sandboxes.salesforce.ids import is_valid_id
from sandboxes.salesforce.org import Org
from sandboxes.salesforce.routes.api import api_route, read_json, sobject_schema
from sandboxes.salesforce.routes.sobjects import render_record, select_fields
from sandboxes.salesforce.schema import schema_for
from sandboxes.salesforce.serialize import json_response

__all__ = ["MAX_RETRIEVE", "MAX_WRITE", "collection_routes"]

MAX_RETRIEVE = 2000
MAX_WRITE = 200
_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}


def _limit(count: int, maximum: int) -> None:
    if count > maximum:
        raise SalesforceError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {maximum} records into this call",
        )


def _string_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SalesforceError(
            400, "JSON_PARSER_ERROR", f"Cannot deserialize {name}: expected an array of strings"
        )
    return value


def collection_routes(org: Org) -> list[Route]:
    state = org.state

    async def retrieve(request: Request) -> Response:
        schema = sobject_schema(request)
        if request.method == "GET":
            ids = [i for i in request.query_params.get("ids", "").split(",") if i]
            names: list[str] | None = [
                f for f in request.query_params.get("fields", "").split(",") if f
            ]
        else:
            body = await read_json(request)
            if not isinstance(body, dict):
                raise SalesforceError(400, "JSON_PARSER_ERROR", "expected a JSON object")
            ids = _string_list(body.get("ids"), "ids")
            names = _string_list(body.get("fields"), "fields")
        if not names:
            raise SalesforceError(400, "MISSING_ARGUMENT", "fields was not specified")
        _limit(len(ids), MAX_RETRIEVE)
        fields = select_fields(schema, names)
        out: list[Any] = []
        for record_id in ids:
            if not is_valid_id(record_id):
                raise SalesforceError(400, "MALFORMED_ID", f"malformed id {record_id}")
            record = state.get(schema, record_id)
            out.append(render_record(schema, record, fields) if record is not None else None)
        return json_response(out)

    async def write_many(request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "expected a JSON object")
        records = body.get("records")
        if not isinstance(records, list):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "records must be an array")
        _limit(len(records), MAX_WRITE)
        all_or_none = body.get("allOrNone", False) is True
        snapshot = state.snapshot() if all_or_none else None
        results: list[dict[str, Any]] = []
        for item in records:
            try:
                results.append(write_one(item, updating=request.method == "PATCH"))
            except SalesforceError as exc:
                results.append(
                    {"success": False, "errors": [
                        {"statusCode": exc.code, "message": exc.message, "fields": exc.fields or []}
                    ]}
                )  # fmt: skip
        if snapshot is not None and not all(r["success"] for r in results):
            state.restore(snapshot)
            results = [r if not r["success"] else {"success": False, "errors": [_ROLLED_BACK]}
                       for r in results]  # fmt: skip
        return json_response(results)

    def write_one(item: Any, *, updating: bool) -> dict[str, Any]:
        attributes = item.get("attributes") if isinstance(item, dict) else None
        schema = (
            schema_for(str(attributes.get("type", ""))) if isinstance(attributes, dict) else None
        )
        if schema is None:
            raise SalesforceError(
                400, "INVALID_TYPE", "attributes.type is required and must name an sObject"
            )
        fields = {k: v for k, v in item.items() if k.lower() != "id"}
        values = validate_body(state, schema, fields)
        if not updating:
            if any(k.lower() == "id" for k in item):
                raise SalesforceError(400, "INVALID_FIELD", "cannot specify Id in an insert call")
            record = create(state, schema, values)
            return {"id": record["Id"], "success": True, "errors": []}
        record_id = next((v for k, v in item.items() if k.lower() == "id"), None)
        if not isinstance(record_id, str):
            raise SalesforceError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
        existing = state.get(schema, record_id)
        if existing is None:
            raise SalesforceError(
                400, "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {record_id}"
            )
        apply_update(state, schema, existing, values)
        return {"id": existing["Id"], "success": True, "errors": []}

    return [
        api_route(org, "/composite/sobjects", {"POST": write_many, "PATCH": write_many}),
        api_route(org, "/composite/sobjects/{sobject}", {"POST": retrieve, "GET": retrieve}),
    ]
