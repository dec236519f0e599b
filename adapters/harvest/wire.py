"""Harvest's wire format: JSON bodies with exact decimals, and its page envelope.

Responses are parsed with ``parse_float=Decimal`` (httpx's ``response.json()``
would give floats). Request bodies are written by `encode`, which writes a
Decimal as a JSON number with its exact digits (``2.50``), as Harvest expects
for hours and amounts. A list page is ``{<resource>: [...], "total_pages",
"links": {"next": <url or null>}, ...}``; ``links.next`` is followed verbatim.
"""

from __future__ import annotations

import json
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any

import httpx

from adapters.harvest.errors import SYSTEM
from domain.errors import MappingFailed

__all__ = ["Json", "decode", "encode", "next_link", "rows", "total_pages"]

Json = dict[str, Any]


def encode(value: Any) -> bytes:
    """JSON bytes for a request body; Decimal is written as an exact number."""
    return _text(value).encode("ascii")


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value} as a JSON number")
        return format(value, "f")
    if isinstance(value, dict):
        items = (f"{encode_basestring_ascii(str(k))}:{_text(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_text(v) for v in value) + "]"
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _failed(response: httpx.Response, detail: str) -> MappingFailed:
    where = f"{response.request.method} {response.request.url.path}"
    return MappingFailed(f"{where}: {detail}", system=SYSTEM, status=response.status_code)


def decode(response: httpx.Response) -> Json:
    """A response body as a JSON object, numbers with a fraction as Decimal."""
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _failed(response, f"response is not JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise _failed(response, "response is not a JSON object")
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
