"""Cursor pagination over an ordered list (Relay connections).

Cursors are opaque to clients: ``base64url("v1:<offset>")``. A cursor that
does not decode, or a page size outside 1..max, is invalid input with a
message that says what is wrong, never a server error.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import InvalidInput

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "Page",
    "decode_cursor",
    "encode_cursor",
    "paginate",
]

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_PREFIX = "v1:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInput(f"invalid cursor {cursor!r}: not a cursor this API issued") from None
    if not text.startswith(_PREFIX) or not text[len(_PREFIX) :].isdigit():
        raise InvalidInput(f"invalid cursor {cursor!r}: not a cursor this API issued")
    return int(text[len(_PREFIX) :])


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    start: int  # offset of items[0]
    total: int
    has_next: bool
    has_previous: bool

    def cursor(self, index: int) -> str:
        return encode_cursor(self.start + index)


def paginate(
    items: Sequence[T],
    *,
    first: int | None,
    after: str | None,
    max_page_size: int = MAX_PAGE_SIZE,
    default_page_size: int = DEFAULT_PAGE_SIZE,
) -> Page[T]:
    size = default_page_size if first is None else first
    if size < 0:
        raise InvalidInput(f"first must not be negative, got {size}")
    if size > max_page_size:
        raise InvalidInput(f"first must be at most {max_page_size}, got {size}")
    start = 0 if after is None else decode_cursor(after) + 1
    if start > len(items):
        raise InvalidInput(f"invalid cursor {after!r}: it points past the end of the list")
    chunk = list(items[start : start + size])
    return Page(
        items=chunk,
        start=start,
        total=len(items),
        has_next=start + size < len(items),
        has_previous=start > 0,
    )
