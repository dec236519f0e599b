"""``POST /services/rest/query/v1/suiteql?limit=&offset=`` with ``Prefer: transient``.

Body ``{"q": "SELECT ..."}``. ``limit`` ≤ 1000 (default 1000) and ``offset``
a multiple of ``limit``; at most 100,000 rows are reachable. A missing
``Prefer: transient`` header is 400 INVALID_HEADER; a query NetSuite would
refuse is 400 INVALID_PARAMETER with an "Invalid search query" detail.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.netsuite.errors import bad_request
from sandboxes.netsuite.jsonio import resource_response
from sandboxes.netsuite.paging import page, window
from sandboxes.netsuite.requests import base_url, json_body, prefers
from sandboxes.netsuite.state import Store
from sandboxes.netsuite.suiteql.engine import QueryError, execute
from sandboxes.netsuite.suiteql.lexer import SuiteQLSyntaxError

__all__ = ["SUITEQL_PATH", "suiteql_routes"]

SUITEQL_PATH = "/services/rest/query/v1/suiteql"
MAX_ROWS = 100_000


def suiteql_routes(
    store_of: Callable[[], Store], authenticate: Callable[[Request], None]
) -> list[Route]:
    async def suiteql(request: Request) -> Response:
        authenticate(request)
        if not prefers(request, "transient"):
            raise bad_request(
                "INVALID_HEADER",
                "The request is missing the required header 'Prefer: transient'.",
                "Prefer",
            )
        win = window(request.query_params, offset_multiple_of_limit=True)
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("q"), str):
            raise bad_request(
                "INVALID_CONTENT",
                'Invalid content in the request body: expected {"q": "<SuiteQL query>"}.',
                "q",
            )
        try:
            rows = execute(store_of(), body["q"])
        except (SuiteQLSyntaxError, QueryError) as exc:
            raise bad_request(
                "INVALID_PARAMETER",
                "Invalid search query. Detailed unprocessed description follows. "
                f"Search error occurred: {exc}",
                "q",
            ) from None
        rows = rows[:MAX_ROWS]
        href_base = base_url(request) + SUITEQL_PATH

        def href(limit: int, offset: int) -> str:
            return f"{href_base}?limit={limit}&offset={offset}"

        return resource_response(page(rows, win, href), kind="collection")

    return [Route(SUITEQL_PATH, suiteql, methods=["POST"])]
