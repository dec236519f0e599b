"""The SuiteQL syntax tree the parser builds and the engine evaluates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "And",
    "Between",
    "Call",
    "Column",
    "Compare",
    "Expr",
    "InList",
    "IsNull",
    "Like",
    "Literal",
    "Not",
    "Or",
    "OrderItem",
    "Query",
    "SelectItem",
    "Subquery",
]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    qualifier: str | None = None


@dataclass(frozen=True, slots=True)
class Literal:
    value: Decimal | str | None


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # upper case, dotted: "BUILTIN.DF", "TO_CHAR"
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # = <> < > <= >=  (!= is read as <>)
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class InList:
    expr: Expr
    items: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Like:
    expr: Expr
    pattern: Expr
    negated: bool


@dataclass(frozen=True, slots=True)
class IsNull:
    expr: Expr
    negated: bool


@dataclass(frozen=True, slots=True)
class Between:
    expr: Expr
    low: Expr
    high: Expr
    negated: bool


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not:
    expr: Expr


@dataclass(frozen=True, slots=True)
class Subquery:
    """``(SELECT one_column FROM ...)`` used as a value; it may name the outer query's columns."""

    query: Query


Expr = (
    Column | Literal | Call | Compare | InList | Like | IsNull | Between | And | Or | Not | Subquery
)


@dataclass(frozen=True, slots=True)
class SelectItem:
    expr: Expr | None  # None: "*"
    alias: str | None


@dataclass(frozen=True, slots=True)
class OrderItem:
    expr: Expr
    descending: bool
    nulls_first: bool | None


@dataclass(frozen=True, slots=True)
class Query:
    items: tuple[SelectItem, ...]
    table: str
    alias: str | None
    where: Expr | None
    order: tuple[OrderItem, ...]
    distinct: bool
