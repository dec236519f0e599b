"""The Kantata OX sandbox app: ``/api/v1/...`` behind bearer auth and faults.

Every resource answers with or without the ``.json`` suffix. Reads return
the §2 envelope; writes take the singular root key and answer with the same
envelope (201 on create, 200 on update). A missing or unknown bearer token
is 401 with an ``oauth`` error; unknown routes and record ids are 404
``system`` errors. The control plane (``/__sandbox/...``) needs no token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.control import ControlPlane, FaultMiddleware, Faults
from sandboxes.firm import Firm
from sandboxes.kantata import staffing, writes
from sandboxes.kantata.associations import parse_include, side_load
from sandboxes.kantata.errors import KantataError, not_found, server_error, throttled, unauthorized
from sandboxes.kantata.query import parse_list_query, select
from sandboxes.kantata.resources import ASSOCIATIONS, RESOURCES, Resource
from sandboxes.kantata.seeding import build_state
from sandboxes.kantata.serialise import KantataJSON, Maps, envelope
from sandboxes.kantata.state import KantataState

__all__ = ["API_PREFIX", "KANTATA_TOKEN", "create_app"]

API_PREFIX = "/api/v1"
KANTATA_TOKEN = "kantata-demo-token"

Record = dict[str, Any]
Writer = Callable[[KantataState, Record], Record]
Updater = Callable[[KantataState, str, Record], Record]

_CREATES: dict[str, Writer] = {
    "workspaces": writes.create_workspace,
    "external_references": writes.create_external_reference,
    "stories": writes.create_story,
    "workspace_resources": staffing.create_workspace_resource,
    "workspace_allocations": staffing.create_workspace_allocation,
}
_UPDATES: dict[str, Updater] = {
    "workspaces": writes.update_workspace,
    "stories": writes.update_story,
}


class KantataSandbox:
    """Holds the mutable state; `reset` rebuilds it from the firm."""

    def __init__(self, firm: Firm, tokens: Sequence[str] = (KANTATA_TOKEN,)) -> None:
        self.firm = firm
        self.tokens = frozenset(tokens)
        self.state = build_state(firm)

    def reset(self) -> None:
        self.state = build_state(self.firm)

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() in self.tokens

    def _present(self, resource: Resource, records: Sequence[Record], include: str | None) -> Maps:
        maps: Maps = {resource.key: {}}
        owners = [maps[resource.key].setdefault(r["id"], dict(r)) for r in records]
        side_load(self.state, ASSOCIATIONS, resource.key, owners, parse_include(include), maps)
        return maps

    def _one(
        self, resource: Resource, record: Record, request: Request, status: int = 200
    ) -> Response:
        maps = self._present(resource, [record], request.query_params.get("include"))
        body = envelope([(resource.key, record["id"])], maps, count=1, page_number=1, page_size=1)
        return KantataJSON(body, status_code=status)

    async def dispatch(self, request: Request) -> Response:
        try:
            if not self._authorised(request):
                return unauthorized()
            return await self._route(request)
        except KantataError as error:
            return error.response()

    async def _route(self, request: Request) -> Response:
        method = request.method
        path = request.path_params["path"].strip("/")
        parts = path.removesuffix(".json").split("/") if path else []
        resource = RESOURCES.get(parts[0]) if parts else None
        if resource is None or len(parts) > 2:
            raise KantataError(404, "system", f"No route matches [{method}] {request.url.path}")
        if len(parts) == 1:
            if method == "GET":
                return self._list(resource, request)
            if method == "POST" and resource.key in _CREATES:
                attrs = writes.parse_body(await request.body(), resource.singular)
                record = _CREATES[resource.key](self.state, attrs)
                return self._one(resource, record, request, status=201)
        else:
            record_id = parts[1]
            if method == "GET":
                if resource.key == "users" and record_id == "me":
                    record_id = self.state.me_user_id or ""
                stored = self.state.table(resource.key).get(record_id)
                if stored is None:
                    raise not_found(resource.model, record_id)
                return self._one(resource, stored, request)
            if method == "PUT" and resource.key in _UPDATES:
                if record_id not in self.state.table(resource.key):
                    raise not_found(resource.model, record_id)
                attrs = writes.parse_body(await request.body(), resource.singular)
                record = _UPDATES[resource.key](self.state, record_id, attrs)
                return self._one(resource, record, request)
        raise KantataError(404, "system", f"No route matches [{method}] {request.url.path}")

    def _list(self, resource: Resource, request: Request) -> Response:
        params = dict(request.query_params)
        query = parse_list_query(self.state, resource, params)
        records, count = select(self.state, resource, query)
        maps = self._present(resource, records, params.get("include"))
        body = envelope(
            [(resource.key, r["id"]) for r in records],
            maps,
            count=count,
            page_number=query.page,
            page_size=query.per_page,
        )
        return KantataJSON(body)


def create_app(firm: Firm, *, faults: Faults | None = None, seed: int = 0) -> Starlette:
    """Build the Kantata sandbox seeded from `firm`."""
    sandbox = KantataSandbox(firm)
    control = ControlPlane(reset_state=sandbox.reset, faults=faults, seed=seed)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(
        routes=[
            *control.routes(),
            Route(API_PREFIX + "/{path:path}", sandbox.dispatch, methods=methods),
        ],
        middleware=[
            Middleware(
                FaultMiddleware,
                control=control,
                throttled=throttled,
                server_error=server_error,
            )
        ],
    )
    app.state.sandbox = sandbox
    app.state.control = control
    return app
