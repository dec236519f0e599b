"""Salesforce record ids: 15-char case-sensitive ids and their 18-char case-safe form.

An id is a 3-char key prefix (``001`` Account, ``006`` Opportunity, ``005``
User, ``01g`` query locator), a 2-char pod, a reserved ``0`` and a 9-char
base-62 counter; the 18-char form appends a 3-char checksum of the
capitalisation. The sandbox mints ids from a counter seeded by the firm, so
the same firm always yields the same ids.
"""

from __future__ import annotations

import re

__all__ = ["IdMinter", "is_valid_id", "key_prefix", "to_18"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_POD = "5j"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


def _checksum(id15: str) -> str:
    suffix = []
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_SUFFIX[bits])
    return "".join(suffix)


def is_valid_id(value: str) -> bool:
    """Well-formed 15- or 18-char id (an 18-char id must carry the right checksum)."""
    if not _ID_RE.match(value):
        return False
    return len(value) == 15 or _checksum(value[:15]) == value[15:]


def to_18(value: str) -> str:
    """The 18-char form of a well-formed id (checked with `is_valid_id` first)."""
    return value if len(value) == 18 else value + _checksum(value)


def key_prefix(value: str) -> str:
    return value[:3]


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    text = "".join(reversed(digits)) or "0"
    if len(text) > width:
        raise OverflowError("id counter exhausted")
    return text.rjust(width, "0")


class IdMinter:
    """Deterministic ids per key prefix: the n-th record of a type always gets the same id."""

    def __init__(self, seed: int) -> None:
        # Start counters at a seed-dependent point so ids look like a real org's.
        self._base = 62**4 * (3 + seed % 31)
        self._next: dict[str, int] = {}

    def mint(self, prefix: str) -> str:
        number = self._next.get(prefix, 0)
        self._next[prefix] = number + 1
        id15 = f"{prefix}{_POD}0{_base62(self._base + number, 9)}"
        return id15 + _checksum(id15)
