"""Run a compiled query over the org's records: filter, order, slice, project.

SOQL semantics kept: string comparisons are case-insensitive, ``!=`` and
``NOT IN`` match nulls, ids match in 15- or 18-char form, ``ASC`` sorts nulls
first and ``DESC`` last unless ``NULLS FIRST|LAST`` says otherwise. Every
output record carries ``attributes {type, url}``; relationship fields come
back nested (``"Account": {"attributes": .., "Name": ..}`` or ``null``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from sandboxes.salesforce.ids import to_18
from sandboxes.salesforce.schema import SField, SObjectSchema
from sandboxes.salesforce.soql.ast import (
    And,
    Comparison,
    Condition,
    InList,
    Like,
    Literal,
    Not,
    Or,
    OrderItem,
)
from sandboxes.salesforce.soql.compile import CompiledQuery, ResolvedField

__all__ = ["Lookup", "attributes", "execute"]

Record = dict[str, Any]
Lookup = Callable[[str], tuple[SObjectSchema, Record] | None]
API_PREFIX = "/services/data/v60.0"


def attributes(schema: SObjectSchema, record_id: str) -> dict[str, str]:
    return {"type": schema.name, "url": f"{API_PREFIX}/sobjects/{schema.name}/{record_id}"}


def _normal(field: SField, value: Any) -> Any:
    if value is None:
        return None
    if field.type in ("id", "reference"):
        return to_18(value)
    if field.is_string:
        return str(value).lower()
    return value


def _like_regex(raw: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append(re.escape({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, nxt)))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


class _Runner:
    def __init__(self, compiled: CompiledQuery, lookup: Lookup) -> None:
        self.compiled = compiled
        self.lookup = lookup
        self._patterns: dict[int, re.Pattern[str]] = {}

    def value(self, record: Record, resolved: ResolvedField) -> Any:
        current: Record | None = record
        for hop in resolved.hops:
            related_id = current.get(hop.name) if current is not None else None
            found = self.lookup(related_id) if related_id else None
            current = found[1] if found else None
        return current.get(resolved.field.name) if current is not None else None

    def literal(self, field: SField, literal: Literal) -> Any:
        return _normal(field, literal.value)

    def matches(self, record: Record, node: Condition) -> bool:
        if isinstance(node, And):
            return all(self.matches(record, item) for item in node.items)
        if isinstance(node, Or):
            return any(self.matches(record, item) for item in node.items)
        if isinstance(node, Not):
            return not self.matches(record, node.item)
        resolved = self.compiled.resolved[node.field]
        actual = _normal(resolved.field, self.value(record, resolved))
        if isinstance(node, Comparison):
            expected = self.literal(resolved.field, node.value)
            if node.op == "=":
                return bool(actual == expected)
            if node.op == "!=":
                return bool(actual != expected)
            if actual is None or expected is None:
                return False
            if node.op == "<":
                return bool(actual < expected)
            if node.op == ">":
                return bool(actual > expected)
            return bool(actual <= expected) if node.op == "<=" else bool(actual >= expected)
        if isinstance(node, InList):
            found = any(actual == self.literal(resolved.field, v) for v in node.values)
            return not found if node.negated else found
        assert isinstance(node, Like)
        if actual is None:
            return False
        pattern = self._patterns.get(id(node))
        if pattern is None:
            pattern = self._patterns[id(node)] = _like_regex(node.pattern.raw)
        return pattern.fullmatch(str(actual)) is not None

    def compare(self, left: Record, right: Record, items: tuple[OrderItem, ...]) -> int:
        for item in items:
            resolved = self.compiled.resolved[item.field]
            a = _normal(resolved.field, self.value(left, resolved))
            b = _normal(resolved.field, self.value(right, resolved))
            if a == b:
                continue
            if a is None or b is None:
                return (1 if a is None else -1) * (1 if item.nulls_last else -1)
            result = -1 if a < b else 1
            return -result if item.descending else result
        return 0

    def project(self, record: Record) -> dict[str, Any]:
        schema = self.compiled.schema
        out: dict[str, Any] = {"attributes": attributes(schema, record["Id"])}
        for resolved in self.compiled.fields:
            target: dict[str, Any] | None = out
            current: Record | None = record
            for hop, name in zip(resolved.hops, resolved.names, strict=False):
                related_id = current.get(hop.name) if current is not None else None
                found = self.lookup(related_id) if related_id else None
                current = found[1] if found else None
                if target is None:
                    break
                if name not in target:
                    target[name] = (
                        {"attributes": attributes(found[0], found[1]["Id"])} if found else None
                    )
                target = target[name]
            if target is not None:
                target[resolved.field.name] = (
                    current.get(resolved.field.name) if current is not None else None
                )
        return out


def execute(
    compiled: CompiledQuery, records: Iterable[Record], lookup: Lookup
) -> tuple[int, list[dict[str, Any]]]:
    """Return (totalSize, projected records). COUNT() yields (n, [])."""
    runner = _Runner(compiled, lookup)
    query = compiled.query
    rows = [r for r in records if query.where is None or runner.matches(r, query.where)]
    if query.order_by:
        order = query.order_by
        rows.sort(key=functools.cmp_to_key(lambda a, b: runner.compare(a, b, order)))
    start = query.offset or 0
    end = start + query.limit if query.limit is not None else None
    rows = rows[start:end]
    if query.count:
        return len(rows), []
    return len(rows), [runner.project(r) for r in rows]
