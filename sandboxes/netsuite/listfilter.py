"""The record-list filter ``q``: ``field OP value`` conditions joined by AND / OR.

Operators: IS, IS_NOT, ANY_OF (``[a, b]`` or one value), START_WITH, CONTAIN,
EMPTY, EMPTY_NOT, GREATER, GREATER_OR_EQUAL, LESS, LESS_OR_EQUAL, AFTER,
BEFORE, ON, ON_OR_AFTER, ON_OR_BEFORE, BETWEEN (``x AND y`` is not supported;
use two conditions). AND binds tighter than OR. Values are quoted strings or
bare words/numbers. Dates are written ``D/M/YYYY`` (the sandbox account's
date preference) or ISO ``YYYY-MM-DD``; datetimes compare at day precision
for ON and to the second for ISO datetime literals. A bad filter is 400
INVALID_PARAMETER.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandboxes.netsuite.errors import NsError, bad_request
from sandboxes.netsuite.schema import RecordSpec
from sandboxes.netsuite.state import Record

__all__ = ["compile_filter", "parse_date_literal"]

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\[)|(\])|(,)|([^\s\[\],"]+))')
_NO_VALUE = {"EMPTY", "EMPTY_NOT"}
_OPERATORS = {
    "IS", "IS_NOT", "ANY_OF", "START_WITH", "CONTAIN", "EMPTY", "EMPTY_NOT", "GREATER",
    "GREATER_OR_EQUAL", "LESS", "LESS_OR_EQUAL", "AFTER", "BEFORE", "ON", "ON_OR_AFTER",
    "ON_OR_BEFORE",
}  # fmt: skip

Predicate = Callable[[Record], bool]


def _error(detail: str) -> NsError:
    return bad_request("INVALID_PARAMETER", f"Invalid query parameter 'q': {detail}", "q")


def parse_date_literal(text: str) -> date | datetime | None:
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        if "T" in text:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        return date.fromisoformat(text)
    except ValueError:
        return None


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise _error(f"cannot read {text[position:]!r}")
        quoted, opening, closing, comma, word = match.groups()
        if quoted is not None:
            out.append(("str", quoted.replace('\\"', '"')))
        elif opening or closing or comma:
            out.append(("punct", opening or closing or comma or ""))
        else:
            out.append(("word", word or ""))
        position = match.end()
    return out


def _comparable(value: Any, literal: str) -> Any:
    if isinstance(value, bool):
        return literal.lower() == "true"
    if isinstance(value, Decimal | int):
        try:
            return Decimal(literal)
        except InvalidOperation:
            raise _error(f"{literal!r} is not a number") from None
    if isinstance(value, datetime | date):
        parsed = parse_date_literal(literal)
        if parsed is None:
            raise _error(f"{literal!r} is not a date")
        if isinstance(value, datetime) and not isinstance(parsed, datetime):
            return parsed
        return parsed
    return literal


def _condition(name: str, operator: str, values: list[str]) -> Predicate:
    def test(record: Record) -> bool:
        value = record.get(name)
        if operator == "EMPTY":
            return value in (None, "", [])
        if operator == "EMPTY_NOT":
            return value not in (None, "", [])
        if value is None:
            return operator == "IS_NOT"
        wanted = [_comparable(value, literal) for literal in values]
        if isinstance(value, datetime) and not isinstance(wanted[0], datetime):
            value = value.date()
        if operator in ("IS", "ON"):
            return bool(value == wanted[0])
        if operator == "IS_NOT":
            return bool(value != wanted[0])
        if operator == "ANY_OF":
            return value in wanted
        if operator == "START_WITH":
            return str(value).lower().startswith(values[0].lower())
        if operator == "CONTAIN":
            return values[0].lower() in str(value).lower()
        if operator in ("GREATER", "AFTER"):
            return bool(value > wanted[0])
        if operator in ("GREATER_OR_EQUAL", "ON_OR_AFTER"):
            return bool(value >= wanted[0])
        if operator in ("LESS", "BEFORE"):
            return bool(value < wanted[0])
        return bool(value <= wanted[0])  # LESS_OR_EQUAL, ON_OR_BEFORE

    return test


def compile_filter(text: str, spec: RecordSpec, sample: Record | None) -> Predicate:
    """Parse `q` for records of `spec`; errors name the problem."""
    tokens = _tokens(text)
    position = 0
    groups: list[list[Predicate]] = [[]]
    while True:
        if position + 1 >= len(tokens) or tokens[position][0] != "word":
            raise _error("expected 'field OPERATOR value'")
        name, operator = tokens[position][1], tokens[position + 1][1].upper()
        position += 2
        if name != "id" and name not in spec.fields:
            raise _error(f"unknown field '{name}' for record type '{spec.name}'")
        if operator not in _OPERATORS:
            raise _error(f"unknown operator '{operator}'")
        values: list[str] = []
        if operator not in _NO_VALUE:
            if position < len(tokens) and tokens[position] == ("punct", "["):
                position += 1
                while position < len(tokens) and tokens[position] != ("punct", "]"):
                    if tokens[position][0] != "punct":
                        values.append(tokens[position][1])
                    position += 1
                position += 1
            elif position < len(tokens) and tokens[position][0] != "punct":
                values.append(tokens[position][1])
                position += 1
            if not values:
                raise _error(f"operator {operator} needs a value")
        if sample is not None:
            for literal in values:
                if sample.get(name) is not None:
                    _comparable(sample[name], literal)
        groups[-1].append(_condition(name, operator, values))
        if position >= len(tokens):
            break
        joiner = tokens[position][1].upper()
        position += 1
        if joiner == "OR":
            groups.append([])
        elif joiner != "AND":
            raise _error(f"expected AND or OR, found {tokens[position - 1][1]!r}")
    return lambda record: any(all(test(record) for test in group) for group in groups)
