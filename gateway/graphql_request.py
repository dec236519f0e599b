"""Reading a GraphQL-over-HTTP request: media types and request parameters.

Follows https://graphql.github.io/graphql-over-http/draft/. Anything that is
not a well-formed GraphQL-over-HTTP request raises `RequestRejected` with the
HTTP status to answer; nothing here raises anything else on bad input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "JSON",
    "GraphQLParams",
    "RequestRejected",
    "accepts_html",
    "negotiate",
    "params_from_body",
    "params_from_query_string",
]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_UTF8 = frozenset({"utf-8", "utf8"})


class RequestRejected(Exception):
    """Not a well-formed GraphQL-over-HTTP request: answer `status`, never execute."""

    def __init__(
        self, status: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


def _media_ranges(header: str) -> list[tuple[str, float]]:
    """(lower-cased media range, q) for each well-formed entry of an Accept header."""
    ranges = []
    for entry in header.split(","):
        media, *params = (part.strip() for part in entry.split(";"))
        if "/" not in media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if 0.0 <= q <= 1.0:
            ranges.append((media.lower(), q))
    return ranges


def _quality(ranges: list[tuple[str, float]], media_type: str) -> tuple[float, bool]:
    """(q the client gives `media_type`, whether it names it explicitly)."""
    explicit = [q for media, q in ranges if media == media_type]
    if explicit:
        return max(explicit), True
    family = media_type.split("/")[0] + "/*"
    wildcard = [q for media, q in ranges if media in ("*/*", family)]
    return max(wildcard, default=0.0), False


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None (answer 406).

    No Accept header, `*/*` or `application/*` mean `application/json`; the
    spec's media type wins when the client names it with at least as high a q.
    """
    if accept is None or not accept.strip():
        return JSON
    ranges = _media_ranges(accept)
    q_gr, named_gr = _quality(ranges, GRAPHQL_RESPONSE_JSON)
    q_json, _ = _quality(ranges, JSON)
    if q_gr > 0 and (q_gr > q_json or (q_gr == q_json and named_gr)):
        return GRAPHQL_RESPONSE_JSON
    if q_json > 0:
        return JSON
    return None


def accepts_html(accept: str | None) -> bool:
    """Whether the client (a browser) explicitly asks for an HTML page."""
    return any(media == "text/html" and q > 0 for media, q in _media_ranges(accept or ""))


def _object_or_none(value: object, name: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise RequestRejected(400, f"`{name}` must be a JSON object or null")


def _params(data: Mapping[str, object]) -> GraphQLParams:
    query = data.get("query")
    if query is None or query == "":
        raise RequestRejected(400, "Missing `query`: the request has no GraphQL document")
    if not isinstance(query, str):
        raise RequestRejected(400, "`query` must be a string")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestRejected(400, "`operationName` must be a string or null")
    return GraphQLParams(
        query=query,
        variables=_object_or_none(data.get("variables"), "variables"),
        operation_name=operation_name or None,
        extensions=_object_or_none(data.get("extensions"), "extensions"),
    )


def _decode_json(text: str | bytes, what: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, too deep
        raise RequestRejected(400, f"{what} is not valid JSON: {exc}") from None


def params_from_query_string(query: Mapping[str, str]) -> GraphQLParams:
    """GET: `query`, `operationName`, and JSON-encoded `variables` / `extensions`."""
    data: dict[str, object] = {k: query.get(k) for k in ("query", "operationName")}
    for name in ("variables", "extensions"):
        raw = query.get(name)
        data[name] = _decode_json(raw, f"`{name}`") if raw else None
    return _params(data)


def params_from_body(content_type: str | None, body: bytes) -> GraphQLParams:
    """POST: an `application/json` (UTF-8) body holding one JSON object."""
    media, *params = (part.strip() for part in (content_type or "").split(";"))
    if media.lower() != JSON:
        shown = media or "none"
        raise RequestRejected(415, f"Unsupported Content-Type {shown!r}: send {JSON}")
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in _UTF8:
            raise RequestRejected(415, f"Unsupported charset {value.strip()!r}: send utf-8")
    if not body.strip():
        raise RequestRejected(400, "The request body is empty: send a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected(400, "The request body is not valid UTF-8") from None
    data = _decode_json(text, "The request body")
    if isinstance(data, list):
        raise RequestRejected(
            400, "Batched requests (a JSON array) are not supported: send one operation per request"
        )
    if not isinstance(data, dict):
        raise RequestRejected(400, "The request body must be a JSON object")
    return _params(data)
