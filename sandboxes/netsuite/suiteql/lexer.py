"""SuiteQL tokens: identifiers, keywords, 'strings', numbers and operators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

__all__ = ["KEYWORDS", "SuiteQLSyntaxError", "Token", "tokenize"]

TokenKind = Literal["ident", "keyword", "string", "number", "op", "eof"]

KEYWORDS = frozenset({
    "SELECT", "DISTINCT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "IS", "NULL",
    "ORDER", "BY", "ASC", "DESC", "AS", "BETWEEN", "ESCAPE", "NULLS", "FIRST", "LAST",
    "GROUP", "HAVING", "JOIN", "ON", "UNION",
})  # fmt: skip

_PATTERN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_$#]*)
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<string>'(?:[^']|'')*')
  | (?P<op><>|!=|<=|>=|\|\||[=<>(),.*+\-/])
    """,
    re.VERBOSE | re.DOTALL,
)


class SuiteQLSyntaxError(ValueError):
    """A query NetSuite would refuse; the message names the problem."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    value: str
    line: int
    column: int
    number: Decimal | None = None

    def where(self) -> str:
        return f"line {self.line}, column {self.column}"

    def show(self) -> str:
        return "end of query" if self.kind == "eof" else repr(self.value)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    line, line_start = 1, 0
    while position < len(text):
        match = _PATTERN.match(text, position)
        column = position - line_start + 1
        if match is None:
            raise SuiteQLSyntaxError(
                f"Syntax error at line {line}, column {column}: "
                f"unexpected character {text[position]!r}."
            )
        kind = match.lastgroup
        raw = match.group()
        if kind == "number":
            tokens.append(Token("number", raw, line, column, Decimal(raw)))
        elif kind == "ident":
            upper = raw.upper()
            if upper in KEYWORDS:
                tokens.append(Token("keyword", upper, line, column))
            else:
                tokens.append(Token("ident", raw.lower(), line, column))
        elif kind == "quoted":
            tokens.append(Token("ident", raw[1:-1].replace('""', '"').lower(), line, column))
        elif kind == "string":
            tokens.append(Token("string", raw[1:-1].replace("''", "'"), line, column))
        elif kind == "op":
            tokens.append(Token("op", raw, line, column))
        newlines = raw.count("\n")
        if newlines:
            line += newlines
            line_start = position + raw.rfind("\n") + 1
        position = match.end()
    tokens.append(Token("eof", "", line, position - line_start + 1))
    return tokens
