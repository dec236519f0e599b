"""Building SOQL safely: quoted literals, IN-lists chunked to fit a GET URL, id checks.

String literals escape backslashes, quotes and control characters the way
SOQL requires, so no value can end the literal. IN-lists are chunked to at
most `MAX_IN` values and `MAX_IN_CHARS` URL-encoded characters, keeping every
query URL well under Salesforce's ~16 KB limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from urllib.parse import quote as url_quote

__all__ = [
    "MAX_IN",
    "MAX_IN_CHARS",
    "chunk_in",
    "datetime_literal",
    "in_list",
    "is_record_id",
    "literal",
    "to_18",
]

MAX_IN = 200
MAX_IN_CHARS = 12_000
_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\b": "\\b", "\f": "\\f"}  # fmt: skip
_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def literal(value: str) -> str:
    """A SOQL string literal for `value`, quotes included."""
    return "'" + "".join(_ESCAPES.get(char, char) for char in value) + "'"


def datetime_literal(moment: datetime) -> str:
    """A SOQL dateTime literal (unquoted, UTC), truncated to the second: as a lower bound
    (``SystemModstamp > ...``) it may re-read a record of that second, never miss one."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_list(values: Iterable[str]) -> str:
    return "(" + ",".join(literal(v) for v in values) + ")"


def chunk_in(values: Sequence[str]) -> list[list[str]]:
    """Distinct values in order, split into IN-lists that fit one GET URL each."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for value in dict.fromkeys(values):
        cost = len(url_quote(literal(value), safe="")) + 3  # + encoded comma
        if current and (len(current) >= MAX_IN or size + cost > MAX_IN_CHARS):
            chunks.append(current)
            current, size = [], 0
        current.append(value)
        size += cost
    if current:
        chunks.append(current)
    return chunks


def _checksum(id15: str) -> str:
    out = []
    for start in (0, 5, 10):
        bits = sum(1 << i for i, c in enumerate(id15[start : start + 5]) if "A" <= c <= "Z")
        out.append(_SUFFIX[bits])
    return "".join(out)


def is_record_id(value: str) -> bool:
    """A well-formed 15- or 18-char Salesforce id (checksum verified)."""
    if not _ID.match(value):
        return False
    return len(value) == 15 or _checksum(value[:15]) == value[15:]


def to_18(value: str) -> str:
    """The case-safe 18-char form of a well-formed id."""
    return value if len(value) == 18 else value + _checksum(value)
