"""SuiteQL value semantics: Oracle-style coercion, formatting and the scalar functions.

Output formats (the sandbox account's preferences): numbers without trailing
zeros (``8000``, ``412.35``), dates ``D/M/YYYY`` (timestamps show their date
only, as NetSuite does unless ``TO_CHAR`` asks for more), booleans ``T``/``F``.
A string compared with a number or date is converted (``'5'`` = 5,
``'31/5/2024'`` or ``'2024-05-31'`` = that date); a failed conversion is an
error, as in Oracle.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "FUNCTION_ARITY",
    "QueryError",
    "coerce_pair",
    "compare",
    "format_value",
    "like",
    "to_char",
    "to_date",
]

FUNCTION_ARITY: dict[str, tuple[int, int]] = {
    "BUILTIN.DF": (1, 1),
    "TO_CHAR": (1, 2),
    "TO_DATE": (1, 2),
    "UPPER": (1, 1),
    "LOWER": (1, 1),
    "NVL": (2, 2),
    "COALESCE": (1, 16),
}
_FORMAT_TOKEN = re.compile(r'"[^"]*"|YYYY|HH24|MM|DD|MI|SS|.', re.IGNORECASE)
_STRFTIME = {"YYYY": "%Y", "MM": "%m", "DD": "%d", "HH24": "%H", "MI": "%M", "SS": "%S"}


class QueryError(ValueError):
    """A query that parses but cannot run (unknown column, invalid number, ...)."""


def format_value(value: Any) -> str:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, datetime | date):
        return f"{value.day}/{value.month}/{value.year}"
    return str(value)


def _strftime_pattern(fmt: str) -> str:
    parts: list[str] = []
    for token in _FORMAT_TOKEN.findall(fmt):
        if token.startswith('"'):
            parts.append(token[1:-1].replace("%", "%%"))
        else:
            parts.append(_STRFTIME.get(token.upper(), token.replace("%", "%%")))
    return "".join(parts)


def to_char(value: Any, fmt: str | None) -> str | None:
    if value is None:
        return None
    if fmt is None or not isinstance(value, date | datetime):
        return format_value(value)
    return value.strftime(_strftime_pattern(fmt))


def _parse_date(text: str) -> date | datetime | None:
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        if "T" in text or " " in text:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return date.fromisoformat(text)
    except ValueError:
        return None


def to_date(value: Any, fmt: str | None) -> date | datetime | None:
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return value
    text = str(value)
    if fmt is None:
        parsed = _parse_date(text)
    else:
        try:
            parsed = datetime.strptime(text, _strftime_pattern(fmt)).replace(tzinfo=UTC)
        except ValueError:
            parsed = None
    if parsed is None:
        raise QueryError(f"The literal '{text}' does not match the date format.")
    return parsed


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def coerce_pair(left: Any, right: Any) -> tuple[Any, Any]:
    """Make two non-null values comparable the way Oracle would, or raise."""
    if isinstance(left, str) and not isinstance(right, str):
        right, left = coerce_pair(right, left)
        return left, right
    if isinstance(left, Decimal):
        if isinstance(right, str):
            try:
                return left, Decimal(right.strip())
            except InvalidOperation:
                raise QueryError(f"Invalid number: '{right}'.") from None
        if isinstance(right, Decimal):
            return left, right
    elif isinstance(left, date | datetime):
        if isinstance(right, str):
            parsed = to_date(right, None)
            assert parsed is not None
            right = parsed
        if isinstance(right, date | datetime):
            if isinstance(left, datetime) or isinstance(right, datetime):
                return _as_datetime(left), _as_datetime(right)
            return left, right
    elif isinstance(left, str) and isinstance(right, str):
        return left, right
    raise QueryError(
        f"Inconsistent datatypes: cannot compare {type(left).__name__} with {type(right).__name__}."
    )


def compare(op: str, left: Any, right: Any) -> bool | None:
    """``left op right`` with Oracle's coercions; NULL on either side is unknown (None)."""
    if left is None or right is None:
        return None
    a, b = coerce_pair(left, right)
    if op == "=":
        return bool(a == b)
    if op == "<>":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a >= b)


def like(value: Any, pattern: Any) -> bool | None:
    """``value LIKE pattern`` (``%``, ``_``, case-sensitive); NULL on either side is unknown."""
    if value is None or pattern is None:
        return None
    regex = "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in str(pattern)
    )
    return re.fullmatch(regex, format_value(value), re.DOTALL) is not None
