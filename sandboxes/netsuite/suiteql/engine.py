"""Running a parsed SuiteQL query against the sandbox's tables.

Output rows follow NetSuite: keys are lowercase (the alias, the column name,
or ``expr<n>`` for an unnamed expression), values are strings, null columns
are omitted, and each row starts with ``"links": []``. Without ORDER BY rows
come in the table's natural order (ascending id).

A scalar subquery yields its one column of its one row, NULL when it finds
no row, and fails (as Oracle's ORA-01427) when it finds several. A column
resolves to the innermost query whose table (or alias) has it, so a
subquery is correlated by naming ``transaction.entity`` or ``t.entity``;
its result is cached per distinct value of the outer columns it reads.
"""

from __future__ import annotations

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
    Subquery,
)
from sandboxes.netsuite.suiteql.functions import (
    FUNCTION_ARITY,
    QueryError,
    coerce_pair,
    compare,
    format_value,
    like,
    to_char,
    to_date,
)
from sandboxes.netsuite.suiteql.parser import parse
from sandboxes.netsuite.suiteql.scope import Row, Scope, table_named
from sandboxes.netsuite.suiteql.tables import TableDef, rows_of

__all__ = ["QueryError", "execute"]


class _Run(Scope):
    def __init__(
        self, store: Store, query: Query, table: TableDef, outer: _Run | None = None
    ) -> None:
        super().__init__(store, query, table, outer)
        self.sets: dict[tuple[int, type], frozenset[Any]] = {}
        self.subqueries: dict[int, _Run] = {}  # id(Subquery) -> its run
        self.results: dict[tuple[Any, ...], Any] = {}  # a subquery's value per outer values

    # --- checks before any row is read --------------------------------------

    def check(self, expr: Expr) -> None:
        if isinstance(expr, Column):
            self.bind(expr)
        elif isinstance(expr, Subquery):
            self.subqueries[id(expr)] = self.nested(expr.query)
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

    def nested(self, query: Query) -> _Run:
        item = query.items[0].expr if len(query.items) == 1 else None
        if item is None:
            raise QueryError("A subquery used as a value must select exactly one column.")
        run = _Run(self.store, query, table_named(query.table), outer=self)
        run.check(item)
        if query.where is not None:
            run.check(query.where)
        return run

    def scalar(self, env: tuple[Row, ...]) -> Any:
        """This subquery's value with the enclosing rows `env` (innermost first)."""
        key = tuple(env[depth - 1].get(name) for depth, name in sorted(self.correlated))
        if key in self.results:
            return self.results[key]
        self.env = env
        item, where = self.query.items[0].expr, self.query.where
        assert item is not None
        found = [
            self.value(item, row)
            for row in rows_of(self.store, self.table)
            if where is None or self.truth(where, row) is True
        ]
        if self.query.distinct:
            found = list(dict.fromkeys(found))
        if len(found) > 1:
            raise QueryError("Single-row subquery returns more than one row.")
        result = self.results[key] = found[0] if found else None
        return result

    # --- evaluation ----------------------------------------------------------

    def value(self, expr: Expr, row: Row) -> Any:
        if isinstance(expr, Column):
            if not self.env:  # not a subquery: every column is this row's
                return row.get(expr.name)
            return self.locate(expr, row)[1].get(expr.name)
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, Call):
            return self.call(expr, row)
        if isinstance(expr, Subquery):
            return self.subqueries[id(expr)].scalar((row, *self.env))
        return self.truth(expr, row)

    def call(self, expr: Call, row: Row) -> Any:
        args = expr.args
        if expr.name == "BUILTIN.DF":
            column = args[0]
            assert isinstance(column, Column)
            scope, source = self.locate(column, row)
            return scope.display(column.name, source)
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

    def truth(self, expr: Expr, row: Row) -> bool | None:
        if isinstance(expr, Compare):
            return compare(expr.op, self.value(expr.left, row), self.value(expr.right, row))
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
            low = compare(">=", value, self.value(expr.low, row))
            high = compare("<=", value, self.value(expr.high, row))
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
        results = [compare("=", value, self.value(item, row)) for item in expr.items]
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
        matched = like(self.value(expr.expr, row), self.value(expr.pattern, row))
        return None if matched is None else matched != expr.negated


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
    table = table_named(query.table)
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
