"""Record service routes: ``/services/rest/record/v1/{type}[/{id}[/{sublist}]]``.

- ``GET {type}?q=&limit=&offset=`` lists ids + links (limit ≤ 1000).
- ``GET {type}/{id|eid:ext}?fields=&expandSubResources=`` reads one record.
- ``POST {type}`` creates → 204 + Location; ``PATCH`` updates (``?replace=``
  replaces a sublist); ``PUT {type}/eid:{ext}`` upserts; ``DELETE`` → 204.
- Writes honour ``X-NetSuite-Idempotency-Key`` and ``Prefer: respond-async``
  (see `sandboxes.netsuite.writeflow`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.netsuite import writes
from sandboxes.netsuite.errors import NsError, bad_request, not_found
from sandboxes.netsuite.jsonio import resource_response
from sandboxes.netsuite.listfilter import compile_filter
from sandboxes.netsuite.paging import page, window
from sandboxes.netsuite.render import RECORD_ROOT, record_path, render_record, render_sublist
from sandboxes.netsuite.requests import base_url, json_body
from sandboxes.netsuite.schema import RecordSpec, spec_for
from sandboxes.netsuite.state import Record, Store
from sandboxes.netsuite.userevents import UserEvents
from sandboxes.netsuite.writeflow import WriteFlow

__all__ = ["record_routes"]


def _spec(record_type: str) -> RecordSpec:
    spec = spec_for(record_type)
    if spec is None:
        raise NsError(
            404,
            "NONEXISTENT_ID",
            f"Record type '{record_type}' does not exist or is not supported.",
        )
    return spec


def _lookup(store: Store, record_type: str, ref: str) -> Record:
    if ref.startswith("eid:"):
        record = store.by_external(record_type, ref[4:])
    else:
        record = store.get(record_type, ref)
    if record is None:
        raise not_found(record_type, ref)
    return record


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise bad_request(
            "INVALID_PARAMETER", f"Invalid value for the query parameter '{name}': {value!r}.", name
        )
    return value == "true"


def record_routes(
    store_of: Callable[[], Store],
    authenticate: Callable[[Request], None],
    events: UserEvents | None = None,
) -> list[Route]:
    flow = WriteFlow(store_of, events)

    async def list_records(request: Request) -> Response:
        authenticate(request)
        spec = _spec(request.path_params["type"])
        store = store_of()
        win = window(request.query_params)
        records = sorted(store.all(spec.name), key=lambda r: int(r["id"]))
        q = request.query_params.get("q")
        if q:
            keep = compile_filter(q, spec, records[0] if records else None)
            records = [record for record in records if keep(record)]
        base = base_url(request)
        path = f"{base}{RECORD_ROOT}/{request.path_params['type']}"
        extra = {"q": q} if q else {}

        def href(limit: int, offset: int) -> str:
            return f"{path}?{urlencode({**extra, 'limit': limit, 'offset': offset})}"

        def item(record: Record) -> dict[str, Any]:
            return {
                "links": [{"rel": "self", "href": base + record_path(spec.name, record["id"])}],
                "id": record["id"],
            }

        return resource_response(page(records, win, href, item), kind="collection")

    async def get_record(request: Request) -> Response:
        authenticate(request)
        spec = _spec(request.path_params["type"])
        store = store_of()
        record = _lookup(store, spec.name, request.path_params["id"])
        fields: set[str] | None = None
        if "fields" in request.query_params:
            fields = {f.strip() for f in request.query_params["fields"].split(",") if f.strip()}
            unknown = sorted(fields - set(spec.fields) - set(spec.sublists) - {"id"})
            if unknown:
                raise bad_request(
                    "INVALID_PARAMETER",
                    f"Invalid value for the query parameter 'fields': unknown field "
                    f"'{unknown[0]}' for record type '{spec.name}'.",
                    "fields",
                )
        expand = _flag(request, "expandSubResources")
        base = base_url(request)
        body = render_record(store, base, spec.name, record, fields=fields, expand=expand)
        return resource_response(body)

    async def get_sublist(request: Request) -> Response:
        authenticate(request)
        spec = _spec(request.path_params["type"])
        name = request.path_params["sublist"]
        if name not in spec.sublists:
            raise NsError(404, "NONEXISTENT_ID", f"Sub-resource '{name}' does not exist.")
        store = store_of()
        record = _lookup(store, spec.name, request.path_params["id"])
        body = render_sublist(store, base_url(request), spec.name, record, name, expand=True)
        return resource_response(body, kind="collection")

    async def create(request: Request) -> Response:
        authenticate(request)
        spec = _spec(request.path_params["type"])
        body = await json_body(request)
        return flow.run(request, lambda store: writes.create(store, spec.name, body), spec.name)

    async def patch(request: Request) -> Response:
        authenticate(request)
        spec = _spec(request.path_params["type"])
        body = await json_body(request)
        replace = frozenset(
            name.strip() for name in request.query_params.get("replace", "").split(",") if name
        )
        unknown = sorted(replace - set(spec.sublists))
        if unknown:
            raise bad_request(
                "INVALID_PARAMETER",
                f"Invalid value for the query parameter 'replace': '{unknown[0]}' is not a "
                f"sublist of '{spec.name}'.",
                "replace",
            )
        ref = request.path_params["id"]

        def run(store: Store) -> Record:
            record = _lookup(store, spec.name, ref)
            return writes.update(store, spec.name, record, body, replace)

        return flow.run(request, run, spec.name, location=False)

    async def put(request: Request) -> Response:
        authenticate(request)
        spec = _spec(request.path_params["type"])
        ref = request.path_params["id"]
        if not ref.startswith("eid:") or len(ref) == 4:
            raise NsError(
                405,
                "METHOD_NOT_ALLOWED",
                "PUT is supported only as an upsert by external ID: /{type}/eid:{externalId}.",
            )
        body = await json_body(request)
        external_id = ref[4:]
        return flow.run(
            request, lambda store: writes.upsert(store, spec.name, external_id, body), spec.name
        )

    async def delete(request: Request) -> Response:
        authenticate(request)
        spec = _spec(request.path_params["type"])
        ref = request.path_params["id"]

        def run(store: Store) -> Record:
            record = _lookup(store, spec.name, ref)
            writes.delete(store, spec.name, record)
            return record

        return flow.run(request, run, spec.name, location=False)

    return [
        Route(f"{RECORD_ROOT}/{{type}}", list_records, methods=["GET"]),
        Route(f"{RECORD_ROOT}/{{type}}", create, methods=["POST"]),
        Route(f"{RECORD_ROOT}/{{type}}/{{id}}", get_record, methods=["GET"]),
        Route(f"{RECORD_ROOT}/{{type}}/{{id}}", patch, methods=["PATCH"]),
        Route(f"{RECORD_ROOT}/{{type}}/{{id}}", put, methods=["PUT"]),
        Route(f"{RECORD_ROOT}/{{type}}/{{id}}", delete, methods=["DELETE"]),
        Route(f"{RECORD_ROOT}/{{type}}/{{id}}/{{sublist}}", get_sublist, methods=["GET"]),
    ]
