"""``GET /query?q=``, ``/queryAll?q=`` and their ``nextRecordsUrl`` pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.salesforce.cursors import batch_size_from_header
from sandboxes.salesforce.errors import SalesforceError
from sandboxes.salesforce.org import Org
from sandboxes.salesforce.routes.api import api_route
from sandboxes.salesforce.serialize import json_response
from sandboxes.salesforce.soql import compile_query, execute, parse

__all__ = ["query_routes"]


def query_routes(org: Org) -> list[Route]:
    def run(request: Request, endpoint: str) -> Response:
        source = request.query_params.get("q")
        if source is None:
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string must be provided.")
        compiled = compile_query(source, parse(source))
        state = org.state
        records = state.records(compiled.schema, include_deleted=endpoint == "queryAll")
        total, rows = execute(compiled, records, state.find)
        if compiled.query.count:
            return json_response({"totalSize": total, "done": True, "records": []})
        batch = batch_size_from_header(request.headers.get("sforce-query-options"))
        return json_response(org.cursors.first_page(rows, total, batch, endpoint))

    async def query(request: Request) -> Response:
        return run(request, "query")

    async def query_all(request: Request) -> Response:
        return run(request, "queryAll")

    async def more(request: Request) -> Response:
        return json_response(org.cursors.next_page(request.path_params["locator"]))

    return [
        api_route(org, "/query", {"GET": query}),
        api_route(org, "/query/{locator}", {"GET": more}),
        api_route(org, "/queryAll", {"GET": query_all}),
        api_route(org, "/queryAll/{locator}", {"GET": more}),
    ]
