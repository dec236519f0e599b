"""Harvest's wire format: JSON bodies with exact decimals, and its page envelope.

Bodies go through `adapters.jsonwire`: responses are parsed with
``parse_float=Decimal``; request bodies are ASCII, with a Decimal written as a
JSON number with its exact digits (``2.50``), as Harvest expects for hours and
amounts. A list page is ``{<resource>: [...], "total_pages", "links": {"next":
<url or null>}, ...}``; ``links.next`` is followed verbatim.
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters import jsonwire
from adapters.harvest.errors import SYSTEM
from domain.errors import MappingFailed

__all__ = ["Json", "decode", "encode", "next_link", "rows", "total_pages"]

Json = dict[str, Any]


def encode(value: Any) -> bytes:
    """JSON bytes for a request body: Decimal as an exact number, ASCII-only text."""
    return jsonwire.encode(value, ascii_only=True)


def decode(response: httpx.Response) -> Json:
    """A response body as a JSON object, numbers with a fraction as Decimal."""
    body = jsonwire.decode_response(response, system=SYSTEM)
    if not isinstance(body, dict):
        where = f"{response.request.method} {response.request.url.path}"
        raise MappingFailed(
            f"{where}: response is not a JSON object", system=SYSTEM, status=response.status_code
        )
    return body


def rows(page: Json, key: str) -> list[Json]:
    items = page.get(key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MappingFailed(f"page has no list of {key}", system=SYSTEM)
    return items


def next_link(page: Json) -> str | None:
    links = page.get("links")
    link = links.get("next") if isinstance(links, dict) else None
    if link is not None and not isinstance(link, str):
        raise MappingFailed("page links.next is not a URL", system=SYSTEM)
    return link


def total_pages(page: Json) -> int:
    value = page.get("total_pages")
    if isinstance(value, bool) or not isinstance(value, int):
        raise MappingFailed("page has no integer total_pages", system=SYSTEM)
    return value
