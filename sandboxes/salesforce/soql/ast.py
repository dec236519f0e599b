"""The syntax tree of the SOQL subset the sandbox understands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal as TypingLiteral

__all__ = [
    "And",
    "Comparison",
    "Condition",
    "FieldRef",
    "InList",
    "Like",
    "Literal",
    "LiteralKind",
    "LiteralValue",
    "Not",
    "Or",
    "OrderItem",
    "Query",
]

LiteralKind = TypingLiteral["string", "number", "date", "datetime", "boolean", "null"]
LiteralValue = str | Decimal | date | datetime | bool | None


@dataclass(frozen=True, slots=True)
class FieldRef:
    path: tuple[str, ...]  # ("Account", "Name") for Account.Name
    row: int
    column: int

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Literal:
    kind: LiteralKind
    value: LiteralValue
    row: int
    column: int
    raw: str = ""  # string literal source, escapes intact (LIKE needs it)


@dataclass(frozen=True, slots=True)
class Comparison:
    field: FieldRef
    op: str  # = != < > <= >=  ("<>" is normalised to "!=")
    value: Literal


@dataclass(frozen=True, slots=True)
class InList:
    field: FieldRef
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Like:
    field: FieldRef
    pattern: Literal


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


Condition = Comparison | InList | Like | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass(frozen=True, slots=True)
class Query:
    fields: tuple[FieldRef, ...]  # empty for SELECT COUNT()
    count: bool
    sobject: str
    sobject_row: int
    sobject_column: int
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
