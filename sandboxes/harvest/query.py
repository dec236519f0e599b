"""Query parameters of Harvest list endpoints: filters, ``page``/``per_page`` and cursors.

Values are validated as Harvest does (integers, ``true``/``false``, ISO dates
and datetimes); a bad value or an unknown parameter is a 422 ``{"message"}``.
(Harvest's answer to an unknown parameter is unverified: it probably ignores
it. The sandbox is stricter on purpose, so a misspelt filter in an adapter
fails a test instead of silently returning everything.)

A cursor is opaque to clients: base64url of ``{"resource", "filters", "after"}``
where ``after`` is the sort key of the last row served. The filters travel in
the cursor, so ``links.next`` carries only ``cursor``, ``per_page`` and ``ref``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from starlette.datastructures import QueryParams

from sandboxes.harvest.errors import HarvestError, message

__all__ = [
    "MAX_PER_PAGE",
    "ListQuery",
    "Parser",
    "choice",
    "encode_cursor",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_int",
    "parse_list_query",
]

MAX_PER_PAGE = 2000
PAGING = frozenset({"page", "per_page", "cursor", "ref"})
AUTH_PARAMS = frozenset({"access_token", "account_id"})  # credentials may come as params

Parser = Callable[[str, str], Any]


def _bad(name: str, raw: str, expected: str) -> HarvestError:
    return message(422, f"Invalid value for {name}: {raw!r} (expected {expected})")


def _digits(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and len(raw) <= 18


def parse_int(name: str, raw: str) -> int:
    if not _digits(raw):
        raise _bad(name, raw, "a positive integer")
    return int(raw)


def parse_bool(name: str, raw: str) -> bool:
    if raw not in ("true", "false"):
        raise _bad(name, raw, "true or false")
    return raw == "true"


def parse_date(name: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad(name, raw, "a date YYYY-MM-DD") from None


def parse_datetime(name: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise _bad(name, raw, "an ISO 8601 date and time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def choice(*allowed: str) -> Parser:
    def parse(name: str, raw: str) -> str:
        if raw not in allowed:
            raise _bad(name, raw, " or ".join(allowed))
        return raw

    return parse


@dataclass(frozen=True, slots=True)
class ListQuery:
    filters: dict[str, str]  # validated raw values, for links and cursors
    values: dict[str, Any]  # parsed values, for matching
    per_page: int
    page: int | None  # None when following a cursor
    after: tuple[Any, ...] | None  # keyset position from the cursor


def encode_cursor(resource: str, filters: Mapping[str, str], after: tuple[Any, ...]) -> str:
    raw = json.dumps({"resource": resource, "filters": dict(filters), "after": list(after)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(resource: str, cursor: str) -> tuple[dict[str, str], tuple[Any, ...]]:
    invalid = message(422, "Invalid cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise invalid from None
    if not isinstance(data, dict) or data.get("resource") != resource:
        raise invalid
    filters, after = data.get("filters"), data.get("after")
    if not isinstance(filters, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in filters.items()
    ):
        raise invalid
    if not isinstance(after, list) or not after:
        raise invalid
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in after):
        raise invalid
    return filters, tuple(after)


def parse_list_query(resource: str, params: QueryParams, spec: Mapping[str, Parser]) -> ListQuery:
    """Validate a list request's parameters against the endpoint's filter `spec`."""
    for name in params:
        if name not in spec and name not in PAGING and name not in AUTH_PARAMS:
            raise message(422, f"Unknown parameter: {name}")
    per_page = MAX_PER_PAGE
    if "per_page" in params:
        raw = params["per_page"]
        if not _digits(raw) or not 1 <= int(raw) <= MAX_PER_PAGE:
            raise message(422, f"per_page must be between 1 and {MAX_PER_PAGE}, got {raw!r}")
        per_page = int(raw)
    after: tuple[Any, ...] | None = None
    page: int | None = 1
    if "cursor" in params:
        filters, after = _decode_cursor(resource, params["cursor"])
        if any(name not in spec for name in filters):
            raise message(422, "Invalid cursor")
        page = None
    else:
        filters = {name: params[name] for name in spec if name in params}
        if "page" in params:
            raw = params["page"]
            if not _digits(raw) or int(raw) < 1:
                raise message(422, f"page must be a positive integer, got {raw!r}")
            page = int(raw)
    values = {name: spec[name](name, raw) for name, raw in filters.items()}
    return ListQuery(filters, values, per_page, page, after)
