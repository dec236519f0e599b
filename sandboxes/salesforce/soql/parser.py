"""Recursive-descent parser for the SOQL subset.

Grammar (keywords case-insensitive)::

    query      := SELECT selection FROM ident [WHERE condition]
                  [ORDER BY order (, order)*] [LIMIT int] [OFFSET int]
    selection  := COUNT ( ) | field (, field)*
    condition  := unary ((AND unary)* | (OR unary)*)   -- mixing needs parentheses
    unary      := NOT unary | ( condition ) | predicate
    predicate  := field (op literal | LIKE literal | [NOT] IN ( literal (, literal)* ))
    order      := field [ASC | DESC] [NULLS (FIRST | LAST)]

Syntax errors raise `SoqlError` with MALFORMED_QUERY naming the unexpected
token, as Salesforce does. Names are not resolved here (see `compile`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sandboxes.salesforce.soql.ast import (
    And,
    Comparison,
    Condition,
    FieldRef,
    InList,
    Like,
    Literal,
    Not,
    Or,
    OrderItem,
    Query,
)
from sandboxes.salesforce.soql.errors import SoqlError, malformed
from sandboxes.salesforce.soql.lexer import Token, tokenize

__all__ = ["RESERVED", "parse"]

RESERVED = frozenset(
    {
        "and", "asc", "by", "count", "desc", "false", "first", "from", "in", "last", "like",
        "limit", "not", "null", "nulls", "offset", "or", "order", "select", "true", "where",
    }
)  # fmt: skip
_NUMBER_LIKE = ("NUMBER", "DATE", "DATETIME")


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0

    # -- token helpers -----------------------------------------------------------
    @property
    def current(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "EOF":
            self.pos += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.current
        return token.kind == "IDENT" and token.text.lower() in words

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.current
        return malformed(self.source, token.row, token.column, f"unexpected token: '{token.text}'")

    def keyword(self, word: str) -> Token:
        if not self.at_keyword(word):
            raise self.unexpected()
        return self.advance()

    def expect(self, kind: str) -> Token:
        if self.current.kind != kind:
            raise self.unexpected()
        return self.advance()

    # -- grammar -------------------------------------------------------------------
    def query(self) -> Query:
        self.keyword("select")
        fields: list[FieldRef] = []
        count = False
        if self.at_keyword("count") and self.tokens[self.pos + 1].kind == "LPAREN":
            self.advance()
            self.expect("LPAREN")
            self.expect("RPAREN")
            count = True
        else:
            fields.append(self.field())
            while self.current.kind == "COMMA":
                self.advance()
                fields.append(self.field())
        self.keyword("from")
        sobject = self.expect("IDENT")
        if sobject.text.lower() in RESERVED or "." in sobject.text:
            raise self.unexpected(sobject)
        where = None
        if self.at_keyword("where"):
            self.advance()
            where = self.condition()
        order: list[OrderItem] = []
        if self.at_keyword("order"):
            self.advance()
            self.keyword("by")
            order.append(self.order_item())
            while self.current.kind == "COMMA":
                self.advance()
                order.append(self.order_item())
        limit = self.integer_clause("limit")
        offset = self.integer_clause("offset")
        if self.current.kind != "EOF":
            raise self.unexpected()
        return Query(
            tuple(fields), count, sobject.text, sobject.row, sobject.column,
            where, tuple(order), limit, offset,
        )  # fmt: skip

    def integer_clause(self, word: str) -> int | None:
        if not self.at_keyword(word):
            return None
        self.advance()
        token = self.current
        if token.kind != "NUMBER" or not token.text.isdigit() or len(token.text) > 9:
            raise self.unexpected()
        self.advance()
        return int(token.text)

    def field(self) -> FieldRef:
        token = self.current
        if token.kind != "IDENT" or token.text.lower() in RESERVED:
            raise self.unexpected()
        self.advance()
        return FieldRef(tuple(token.text.split(".")), token.row, token.column)

    def order_item(self) -> OrderItem:
        field = self.field()
        descending = False
        if self.at_keyword("asc", "desc"):
            descending = self.advance().text.lower() == "desc"
        nulls_last = descending  # Salesforce: ASC puts nulls first, DESC last
        if self.at_keyword("nulls"):
            self.advance()
            if not self.at_keyword("first", "last"):
                raise self.unexpected()
            nulls_last = self.advance().text.lower() == "last"
        return OrderItem(field, descending, nulls_last)

    def condition(self) -> Condition:
        first = self.unary()
        if not self.at_keyword("and", "or"):
            return first
        joiner = self.current.text.lower()
        items = [first]
        while self.at_keyword("and", "or"):
            if self.current.text.lower() != joiner:
                raise self.unexpected()
            self.advance()
            items.append(self.unary())
        return And(tuple(items)) if joiner == "and" else Or(tuple(items))

    def unary(self) -> Condition:
        if self.at_keyword("not"):
            self.advance()
            return Not(self.unary())
        if self.current.kind == "LPAREN":
            self.advance()
            inner = self.condition()
            self.expect("RPAREN")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        field = self.field()
        token = self.current
        if token.kind == "OP":
            self.advance()
            op = "!=" if token.text == "<>" else token.text
            return Comparison(field, op, self.literal())
        if self.at_keyword("like"):
            self.advance()
            return Like(field, self.literal())
        negated = False
        if self.at_keyword("not"):
            self.advance()
            if not self.at_keyword("in"):
                raise self.unexpected()
            negated = True
        if self.at_keyword("in"):
            self.advance()
            self.expect("LPAREN")
            values = [self.literal()]
            while self.current.kind == "COMMA":
                self.advance()
                values.append(self.literal())
            self.expect("RPAREN")
            return InList(field, tuple(values), negated)
        raise self.unexpected()

    def literal(self) -> Literal:
        token = self.current
        if token.kind == "STRING":
            self.advance()
            return Literal("string", token.text, token.row, token.column, token.raw)
        if token.kind in _NUMBER_LIKE:
            self.advance()
            return self.typed_literal(token)
        if self.at_keyword("true", "false"):
            self.advance()
            return Literal("boolean", token.text.lower() == "true", token.row, token.column)
        if self.at_keyword("null"):
            self.advance()
            return Literal("null", None, token.row, token.column)
        raise self.unexpected()

    def typed_literal(self, token: Token) -> Literal:
        try:
            if token.kind == "NUMBER":
                return Literal("number", Decimal(token.text), token.row, token.column)
            if token.kind == "DATE":
                return Literal("date", date.fromisoformat(token.text), token.row, token.column)
            text = token.text.replace("Z", "+00:00")
            if text[-5] in "+-" and text[-3] != ":":  # +0100 -> +01:00
                text = f"{text[:-2]}:{text[-2:]}"
            return Literal("datetime", datetime.fromisoformat(text), token.row, token.column)
        except ValueError:
            raise malformed(
                self.source, token.row, token.column, f"invalid {token.kind.lower()}: {token.text}"
            ) from None


def parse(source: str) -> Query:
    """Parse one SOQL statement or raise `SoqlError` (MALFORMED_QUERY)."""
    if not source.strip():
        raise SoqlError("MALFORMED_QUERY", "unexpected token: <EOF>")
    return _Parser(source).query()
