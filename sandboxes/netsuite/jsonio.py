"""NetSuite's JSON on the wire: exact Decimal numbers, NetSuite's media type.

NetSuite writes amounts as JSON numbers (``"total": 8412.35``). The sandbox
keeps amounts as `Decimal` and writes them as number literals with their exact
decimal text (`sandboxes.jsonwire`), so a client parsing with
``parse_float=Decimal`` loses nothing. Every response carries NetSuite's
media type, ``application/vnd.oracle.resource+json; type=singular|collection|error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from starlette.responses import Response

from sandboxes import jsonwire

__all__ = ["MEDIA_TYPE", "ResourceKind", "resource_response"]

MEDIA_TYPE = "application/vnd.oracle.resource+json"
ResourceKind = Literal["singular", "collection", "error"]


def resource_response(
    body: Any,
    *,
    kind: ResourceKind = "singular",
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        jsonwire.dumps(body).encode("utf-8"),
        status_code=status,
        headers=dict(headers or {}),
        media_type=f"{MEDIA_TYPE}; type={kind}",
    )
