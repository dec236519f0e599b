"""Running a parsed SuiteQL query against the sandbox's tables.

Output rows follow NetSuite: keys are lowercase (the alias, the column name,
or ``expr<n>`` for an unnamed expression), values are strings, null columns
are omitted, and each row starts with ``"links": []``. Without ORDER BY rows
come in the table's natural order (ascending id).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sandboxes.netsuite.state import Store
from sandboxes.netsuite.suiteql.ast import (
    And,
    Between,
    Call,
    Column,
    Compare,
    Expr,
    InList,
    IsNull,
    Like,
    Literal,
    Not,
    Or,
    Query,
)
from sandboxes.netsuite.suiteql.functions import (
    FUNCTION_ARITY,
    QueryError,
    coerce_pair,
    format_value,
    to_char,
    to_date,
)
from sandboxes.netsuite.suiteql.parser import parse
from sandboxes.netsuite.suiteql.tables import TABLES, TableDef, rows_of

__all__ = ["QueryError", "execute"]

Row = dict[str, Any]


class _Run:
    def __init__(self, store: Store, query: Query, table: TableDef) -> None:
        self.store = store
        self.query = query
        self.table = table
        self.sets: dict[tuple[int, type], frozenset[Any]] = {}

    # --- checks before any row is read --------------------------------------

    def check(self, expr: Expr) -> None:
        if isinstance(expr, Column):
            if expr.qualifier not in (None, self.table.name, self.query.alias):
                raise QueryError(f"Unknown table alias '{expr.qualifier}'.")
            if expr.name not in self.table.columns:
                raise QueryError(
                    f"Field '{expr.name}' for record '{self.table.name}' was not found. "
                    "Reason: NOT_EXPOSED - Not available for channel SUITEQL"
                )
        elif isinstance(expr, Call):
            arity = FUNCTION_ARITY.get(expr.name)
            if arity is None:
                raise QueryError(f"Unknown function '{expr.name}'.")
            if not arity[0] <= len(expr.args) <= arity[1]:
                raise QueryError(f"Wrong number of arguments to {expr.name}.")
            if expr.name == "BUILTIN.DF" and not isinstance(expr.args[0], Column):
                raise QueryError("BUILTIN.DF takes a column.")
            for arg in expr.args:
                self.check(arg)
        elif isinstance(expr, Literal):
            return
        else:
            for child in _children(expr):
                self.check(child)

    # --- evaluation ----------------------------------------------------------

    def value(self, expr: Expr, row: Row) -> Any:
        if isinstance(expr, Column):
            return row.get(expr.name)
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, Call):
            return self.call(expr, row)
        return self.truth(expr, row)

    def call(self, expr: Call, row: Row) -> Any:
        args = expr.args
        if expr.name == "BUILTIN.DF":
            column = args[0]
            assert isinstance(column, Column)
            return self.display(column.name, row)
        values = [self.value(arg, row) for arg in args]
        if expr.name == "TO_CHAR":
            return to_char(values[0], None if len(values) < 2 else str(values[1]))
        if expr.name == "TO_DATE":
            return to_date(values[0], None if len(values) < 2 else str(values[1]))
        if expr.name in ("UPPER", "LOWER"):
            if values[0] is None:
                return None
            text = format_value(values[0])
            return text.upper() if expr.name == "UPPER" else text.lower()
        return next((v for v in values if v is not None), None)  # NVL, COALESCE

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

    def compare(self, op: str, left: Any, right: Any) -> bool | None:
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

    def truth(self, expr: Expr, row: Row) -> bool | None:
        if isinstance(expr, Compare):
            return self.compare(expr.op, self.value(expr.left, row), self.value(expr.right, row))
        if isinstance(expr, And):
            left, right = self.truth(expr.left, row), self.truth(expr.right, row)
            if left is False or right is False:
                return False
            return None if left is None or right is None else True
        if isinstance(expr, Or):
            left, right = self.truth(expr.left, row), self.truth(expr.right, row)
            if left is True or right is True:
                return True
            return None if left is None or right is None else False
        if isinstance(expr, Not):
            inner = self.truth(expr.expr, row)
            return None if inner is None else not inner
        if isinstance(expr, IsNull):
            return (self.value(expr.expr, row) is None) != expr.negated
        if isinstance(expr, InList):
            return self.membership(expr, row)
        if isinstance(expr, Like):
            return self.like(expr, row)
        if isinstance(expr, Between):
            value = self.value(expr.expr, row)
            low = self.compare(">=", value, self.value(expr.low, row))
            high = self.compare("<=", value, self.value(expr.high, row))
            inside = None if low is None or high is None else low and high
            return None if inside is None else inside != expr.negated
        value = self.value(expr, row)
        if isinstance(value, bool) or value is None:
            return value
        raise QueryError("Expected a condition.")

    def membership(self, expr: InList, row: Row) -> bool | None:
        value = self.value(expr.expr, row)
        if value is None:
            return None
        fast = self.literal_set(expr, value)
        if fast is not None:
            return (value in fast) != expr.negated
        results = [self.compare("=", value, self.value(item, row)) for item in expr.items]
        found: bool | None = True if True in results else (None if None in results else False)
        return None if found is None else found != expr.negated

    def literal_set(self, expr: InList, value: Any) -> frozenset[Any] | None:
        """``x IN (literals)`` on text or numbers: one set lookup instead of N comparisons."""
        if not isinstance(value, Decimal | str) or isinstance(value, bool):
            return None
        key = (id(expr), type(value))
        cached = self.sets.get(key)
        if cached is None:
            if not all(isinstance(item, Literal) and item.value is not None for item in expr.items):
                return None
            cached = frozenset(
                coerce_pair(value, item.value)[1]
                for item in expr.items
                if isinstance(item, Literal)
            )
            self.sets[key] = cached
        return cached

    def like(self, expr: Like, row: Row) -> bool | None:
        value, pattern = self.value(expr.expr, row), self.value(expr.pattern, row)
        if value is None or pattern is None:
            return None
        regex = "".join(
            ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in str(pattern)
        )
        matched = re.fullmatch(regex, format_value(value), re.DOTALL) is not None
        return matched != expr.negated


def _children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, Compare):
        return (expr.left, expr.right)
    if isinstance(expr, And | Or):
        return (expr.left, expr.right)
    if isinstance(expr, Not | IsNull):
        return (expr.expr,)
    if isinstance(expr, InList):
        return (expr.expr, *expr.items)
    if isinstance(expr, Like):
        return (expr.expr, expr.pattern)
    if isinstance(expr, Between):
        return (expr.expr, expr.low, expr.high)
    return ()


def _output_names(query: Query, table: TableDef) -> list[tuple[str, Expr]]:
    named: list[tuple[str, Expr]] = []
    unnamed = 0
    for item in query.items:
        if item.expr is None:
            named.extend((name, Column(name)) for name in table.columns)
        elif item.alias is not None:
            named.append((item.alias.lower(), item.expr))
        elif isinstance(item.expr, Column):
            named.append((item.expr.name, item.expr))
        else:
            unnamed += 1
            named.append((f"expr{unnamed}", item.expr))
    return named


def execute(store: Store, text: str) -> list[dict[str, Any]]:
    """Run `text`; raise `SuiteQLSyntaxError` or `QueryError` when NetSuite would refuse it."""
    query = parse(text)
    table = TABLES.get(query.table)
    if table is None:
        raise QueryError(f"Record '{query.table}' was not found.")
    run = _Run(store, query, table)
    outputs = _output_names(query, table)
    for _, expr in outputs:
        run.check(expr)
    if query.where is not None:
        run.check(query.where)
    aliases = {name: expr for name, expr in outputs}
    order_exprs: list[Expr] = []
    for item in query.order:
        expr = item.expr
        if isinstance(expr, Column) and expr.qualifier is None and expr.name in aliases:
            expr = aliases[expr.name]
        elif isinstance(expr, Literal) and isinstance(expr.value, Decimal):
            position = int(expr.value)
            if not 1 <= position <= len(outputs):
                raise QueryError(f"ORDER BY position {position} is out of range.")
            expr = outputs[position - 1][1]
        run.check(expr)
        order_exprs.append(expr)
    rows = rows_of(store, table)
    if query.where is not None:
        where = query.where
        rows = [row for row in rows if run.truth(where, row) is True]
    for item, expr in reversed(list(zip(query.order, order_exprs, strict=True))):
        flip = item.nulls_first is not None and item.nulls_first != item.descending
        keyed = [(run.value(expr, row), row) for row in rows]
        keyed.sort(key=lambda pair: ((pair[0] is None) != flip, _sortable(pair[0])),
                   reverse=item.descending)  # fmt: skip
        rows = [row for _, row in keyed]
    result: list[dict[str, Any]] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for row in rows:
        out: dict[str, Any] = {"links": []}
        for name, expr in outputs:
            value = run.value(expr, row)
            if value is not None:
                out[name] = value if isinstance(value, str) else format_value(value)
        if query.distinct:
            key = tuple(sorted((k, v) for k, v in out.items() if k != "links"))
            if key in seen:
                continue
            seen.add(key)
        result.append(out)
    return result


def _sortable(value: Any) -> Any:
    return (0, "") if value is None else (1, value)
