"""sObject rows: create, read, update, delete, external-id upsert, changed/deleted ids.

- ``POST   /sobjects/{T}``                     → 201 ``{id, success, errors}``
- ``GET    /sobjects/{T}/{Id}?fields=``        → the record (304 with If-Modified-Since)
- ``PATCH  /sobjects/{T}/{Id}``                → 204 (412 with a stale If-Unmodified-Since)
- ``DELETE /sobjects/{T}/{Id}``                → 204
- ``GET|PATCH /sobjects/{T}/{ExtField}/{v}``   → record / upsert 201 created, 200 updated,
  300 when the value matches several records
- ``GET    /sobjects/{T}/updated/?start=&end=`` and ``/deleted/``
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.salesforce.dml import apply_update, create, delete, validate_body
from sandboxes.salesforce.errors import SalesforceError, not_found
from sandboxes.salesforce.org import Org
from sandboxes.salesforce.routes.api import API_PREFIX, api_route, read_json, sobject_schema
from sandboxes.salesforce.schema import SField, SObjectSchema
from sandboxes.salesforce.serialize import format_datetime, json_response
from sandboxes.salesforce.soql.engine import attributes
from sandboxes.salesforce.state import Record

__all__ = ["render_record", "sobject_routes"]


def render_record(
    schema: SObjectSchema, record: Record, fields: list[SField] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": attributes(schema, record["Id"])}
    for field in fields if fields is not None else schema.fields:
        out[field.name] = record.get(field.name)
    return out


def select_fields(schema: SObjectSchema, names: str | list[str] | None) -> list[SField] | None:
    """Resolve a ``fields=`` list (comma string or JSON list); unknown names give INVALID_FIELD."""
    if names is None:
        return None
    items = names.split(",") if isinstance(names, str) else names
    resolved = []
    for name in items:
        field = schema.field(str(name).strip())
        if field is None:
            raise SalesforceError(
                400,
                "INVALID_FIELD",
                f"No such column '{str(name).strip()}' on entity '{schema.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the custom "
                "field name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )
        resolved.append(field)
    return resolved


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _modified_after(record: Record, when: datetime) -> bool:
    stamp: datetime = record["LastModifiedDate"]
    return stamp.replace(microsecond=0) > when


def _window(request: Request) -> tuple[datetime, datetime]:
    bounds = []
    for name in ("start", "end"):
        raw = request.query_params.get(name)
        if raw is None:
            raise SalesforceError(400, "MISSING_ARGUMENT", f"{name} was not specified")
        try:
            value = datetime.fromisoformat(raw.strip().replace(" ", "+").replace("Z", "+00:00"))
        except ValueError:
            raise SalesforceError(
                400, "INVALID_REPLICATION_DATE", f"{name} is not a valid date: {raw}"
            ) from None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        bounds.append(value.astimezone(UTC).replace(second=0, microsecond=0))
    if bounds[1] <= bounds[0]:
        raise SalesforceError(
            400, "INVALID_REPLICATION_DATE", "EndDate must chronologically follow the StartDate"
        )
    return bounds[0], bounds[1]


def sobject_routes(org: Org) -> list[Route]:
    state = org.state

    def record_or_404(schema: SObjectSchema, record_id: str) -> Record:
        record = state.get(schema, record_id)
        if record is None:
            deleted = state.get(schema, record_id, include_deleted=True)
            if deleted is not None:
                raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
            raise not_found()
        return record

    async def create_row(request: Request) -> Response:
        schema = sobject_schema(request)
        values = validate_body(state, schema, await read_json(request))
        record = create(state, schema, values)
        return json_response({"id": record["Id"], "success": True, "errors": []}, status=201)

    async def changed(request: Request, kind: str) -> Response:
        schema = sobject_schema(request)
        start, end = _window(request)
        rows = [
            r
            for r in state.records(schema, include_deleted=True)
            if start <= r["SystemModstamp"] < end
            and r.get("IsDeleted", False) == (kind == "deleted")
        ]
        if kind == "updated":
            return json_response(
                {"ids": [r["Id"] for r in rows], "latestDateCovered": format_datetime(end)}
            )
        return json_response(
            {
                "deletedRecords": [
                    {"id": r["Id"], "deletedDate": format_datetime(r["SystemModstamp"])}
                    for r in rows
                ],
                "earliestDateAvailable": format_datetime(start),
                "latestDateCovered": format_datetime(end),
            }
        )

    async def get_row(request: Request) -> Response:
        record_id = request.path_params["record_id"]
        if record_id in ("updated", "deleted"):
            return await changed(request, record_id)
        schema = sobject_schema(request)
        record = record_or_404(schema, record_id)
        fields = select_fields(schema, request.query_params.get("fields"))
        since = _http_date(request.headers.get("if-modified-since"))
        if since is not None and not _modified_after(record, since):
            return Response(status_code=304)
        return json_response(render_record(schema, record, fields))

    async def patch_row(request: Request) -> Response:
        schema = sobject_schema(request)
        record = record_or_404(schema, request.path_params["record_id"])
        values = validate_body(state, schema, await read_json(request))
        since = _http_date(request.headers.get("if-unmodified-since"))
        if since is not None and _modified_after(record, since):
            raise SalesforceError(
                412,
                "PRECONDITION_FAILED",
                "The requested record has been modified since the If-Unmodified-Since date",
            )
        apply_update(state, schema, record, values)
        return Response(status_code=204)

    async def delete_row(request: Request) -> Response:
        schema = sobject_schema(request)
        delete(state, schema, record_or_404(schema, request.path_params["record_id"]))
        return Response(status_code=204)

    def external_field(request: Request, schema: SObjectSchema) -> SField:
        name = request.path_params["field"]
        field = schema.field(name)
        if field is None or not field.external_id:
            raise SalesforceError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {name}",
            )
        return field

    def multiple(schema: SObjectSchema, matches: list[Record]) -> Response:
        urls = [f"{API_PREFIX}/sobjects/{schema.name}/{r['Id']}" for r in matches]
        return json_response(urls, status=300)

    async def get_by_external(request: Request) -> Response:
        schema = sobject_schema(request)
        field = external_field(request, schema)
        matches = state.by_external_id(schema, field.name, request.path_params["value"])
        if not matches:
            raise not_found()
        if len(matches) > 1:
            return multiple(schema, matches)
        fields = select_fields(schema, request.query_params.get("fields"))
        return json_response(render_record(schema, matches[0], fields))

    async def upsert(request: Request) -> Response:
        schema = sobject_schema(request)
        field = external_field(request, schema)
        values = validate_body(state, schema, await read_json(request), forbidden=field.name)
        value = request.path_params["value"]
        matches = state.by_external_id(schema, field.name, value)
        if len(matches) > 1:
            return multiple(schema, matches)
        if matches:
            apply_update(state, schema, matches[0], values)
            body = {"id": matches[0]["Id"], "success": True, "errors": [], "created": False}
            return json_response(body, status=200)
        key = validate_body(state, schema, {field.name: value})
        record = create(state, schema, {**values, **key})
        body = {"id": record["Id"], "success": True, "errors": [], "created": True}
        return json_response(body, status=201)

    async def changed_updated(request: Request) -> Response:
        return await changed(request, "updated")

    async def changed_deleted(request: Request) -> Response:
        return await changed(request, "deleted")

    return [
        api_route(org, "/sobjects/{sobject}", {"POST": create_row}),
        api_route(org, "/sobjects/{sobject}/updated/", {"GET": changed_updated}),
        api_route(org, "/sobjects/{sobject}/deleted/", {"GET": changed_deleted}),
        api_route(
            org,
            "/sobjects/{sobject}/{record_id}",
            {"GET": get_row, "PATCH": patch_row, "DELETE": delete_row},
        ),
        api_route(
            org,
            "/sobjects/{sobject}/{field}/{value}",
            {"GET": get_by_external, "PATCH": upsert},
        ),
    ]
