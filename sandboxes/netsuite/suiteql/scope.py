"""Which query a column belongs to, and how a column shows (``BUILTIN.DF``).

A query is a scope over one table; a scalar subquery is a scope inside the
query that uses it. A column resolves to the innermost scope whose table
has it (unqualified) or whose table name or alias is its qualifier, so
``(SELECT parent FROM job WHERE id = transaction.entity)`` reads ``id`` from
``job`` and ``entity`` from the enclosing ``transaction`` row. Every scope
between a column and its owner remembers that it reads it (`correlated`):
a subquery's result depends only on those outer values.
"""

from __future__ import annotations

from typing import Any

from sandboxes.netsuite.state import Store
from sandboxes.netsuite.suiteql.ast import Column, Query
from sandboxes.netsuite.suiteql.functions import QueryError, format_value
from sandboxes.netsuite.suiteql.tables import TABLES, TableDef

__all__ = ["Row", "Scope", "table_named"]

Row = dict[str, Any]


def table_named(name: str) -> TableDef:
    table = TABLES.get(name)
    if table is None:
        raise QueryError(f"Record '{name}' was not found.")
    return table


def _not_found(table: TableDef, name: str) -> QueryError:
    return QueryError(
        f"Field '{name}' for record '{table.name}' was not found. "
        "Reason: NOT_EXPOSED - Not available for channel SUITEQL"
    )


class Scope:
    def __init__(
        self, store: Store, query: Query, table: TableDef, outer: Scope | None = None
    ) -> None:
        self.store = store
        self.query = query
        self.table = table
        self.outer = outer
        self.env: tuple[Row, ...] = ()  # the enclosing scopes' current rows, innermost first
        self.depth: dict[int, int] = {}  # id(Column) -> how many scopes out it lives
        self.correlated: set[tuple[int, str]] = set()  # (depth, column) read from outside

    def bind(self, column: Column) -> None:
        """Resolve `column` (raising as NetSuite would when nothing has it)."""
        scope: Scope | None = self
        depth = 0
        while scope is not None:
            if column.qualifier is None and column.name in scope.table.columns:
                break
            if column.qualifier is not None and column.qualifier in (
                scope.table.name,
                scope.query.alias,
            ):
                if column.name not in scope.table.columns:
                    raise _not_found(scope.table, column.name)
                break
            scope, depth = scope.outer, depth + 1
        else:
            if column.qualifier is not None:
                raise QueryError(f"Unknown table alias '{column.qualifier}'.")
            raise _not_found(self.table, column.name)
        self.depth[id(column)] = depth
        inner: Scope | None = self
        for steps in range(depth, 0, -1):
            assert inner is not None
            inner.correlated.add((steps, column.name))
            inner = inner.outer

    def locate(self, column: Column, row: Row) -> tuple[Scope, Row]:
        """The scope owning `column` and that scope's current row (`row` is this scope's)."""
        depth = self.depth.get(id(column), 0) if self.env else 0
        scope = self
        for _ in range(depth):
            assert scope.outer is not None
            scope = scope.outer
        return scope, row if depth == 0 else self.env[depth - 1]

    def display(self, name: str, row: Row) -> str | None:
        value = row.get(name)
        if value is None:
            return None
        column = self.table.columns[name]
        if column.label_key is not None:
            code = f"{row.get(column.label_key)}:{value}"
            return column.labels.get(code, str(value))
        if column.refs:
            record_id = format_value(value)
            found = self.store.find(column.refs, record_id)
            return self.store.ref_name(found[0], record_id) if found else record_id
        if column.labels:
            return column.labels.get(str(value), str(value))
        return format_value(value)
