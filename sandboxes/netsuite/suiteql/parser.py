"""A recursive-descent parser for the SuiteQL subset the sandbox runs.

::

    statement := select EOF
    select    := SELECT [DISTINCT] items FROM table [[AS] alias]
                 [WHERE expr] [ORDER BY order {"," order}]
    items     := "*" | item {"," item}          item  := expr [[AS] alias]
    order     := expr [ASC | DESC] [NULLS (FIRST | LAST)]
    expr      := conj {OR conj}                 conj  := neg {AND neg}
    neg       := NOT neg | predicate
    predicate := operand [ cmp operand | [NOT] IN "(" expr {"," expr} ")"
                 | [NOT] LIKE operand | IS [NOT] NULL
                 | [NOT] BETWEEN operand AND operand ]
    operand   := number | "-" number | 'string' | NULL | "(" expr ")" | "(" select ")"
                 | name {"." name} ["(" [expr {"," expr}] ")"]

A parenthesised ``select`` is a scalar subquery (one column, at most one
row); it may be correlated, naming the enclosing query's columns as
``table.column`` or ``alias.column``. Joins, grouping and set operators are
refused with a syntax error naming them.
"""

from __future__ import annotations

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
    OrderItem,
    Query,
    SelectItem,
    Subquery,
)
from sandboxes.netsuite.suiteql.lexer import SuiteQLSyntaxError, Token, tokenize

__all__ = ["parse"]

_COMPARISONS = {"=", "<>", "!=", "<", ">", "<=", ">="}
_UNSUPPORTED = {"JOIN", "GROUP", "HAVING", "UNION"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def error(self, expected: str) -> SuiteQLSyntaxError:
        token = self.current
        if token.kind == "keyword" and token.value in _UNSUPPORTED:
            return SuiteQLSyntaxError(
                f"Syntax error at {token.where()}: {token.value} is not supported."
            )
        return SuiteQLSyntaxError(
            f"Syntax error at {token.where()}: expected {expected}, found {token.show()}."
        )

    def keyword(self, *words: str) -> bool:
        token = self.current
        if token.kind == "keyword" and token.value in words:
            self.advance()
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.error(word)

    def op(self, *symbols: str) -> bool:
        token = self.current
        if token.kind == "op" and token.value in symbols:
            self.advance()
            return True
        return False

    def expect_op(self, symbol: str) -> None:
        if not self.op(symbol):
            raise self.error(repr(symbol))

    def ident(self, what: str) -> str:
        token = self.current
        if token.kind != "ident":
            raise self.error(what)
        self.advance()
        return token.value

    # --- statement -----------------------------------------------------------

    def statement(self) -> Query:
        query = self.select()
        if self.current.kind != "eof":
            raise self.error("end of query")
        return query

    def select(self) -> Query:
        self.expect_keyword("SELECT")
        distinct = self.keyword("DISTINCT")
        items: list[SelectItem] = []
        if self.op("*"):
            items.append(SelectItem(None, None))
        else:
            items.append(self.select_item())
            while self.op(","):
                items.append(self.select_item())
        self.expect_keyword("FROM")
        table = self.ident("a table name")
        alias: str | None = None
        if self.keyword("AS") or self.current.kind == "ident":
            alias = self.ident("a table alias")
        where = self.expr() if self.keyword("WHERE") else None
        order: list[OrderItem] = []
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            order.append(self.order_item())
            while self.op(","):
                order.append(self.order_item())
        return Query(tuple(items), table, alias, where, tuple(order), distinct)

    def select_item(self) -> SelectItem:
        expr = self.expr()
        alias: str | None = None
        if self.keyword("AS") or self.current.kind == "ident":
            alias = self.ident("a column alias")
        return SelectItem(expr, alias)

    def order_item(self) -> OrderItem:
        expr = self.expr()
        descending = False
        if self.keyword("DESC"):
            descending = True
        else:
            self.keyword("ASC")
        nulls_first: bool | None = None
        if self.keyword("NULLS"):
            if self.keyword("FIRST"):
                nulls_first = True
            else:
                self.expect_keyword("LAST")
                nulls_first = False
        return OrderItem(expr, descending, nulls_first)

    # --- expressions ---------------------------------------------------------

    def expr(self) -> Expr:
        left = self.conjunction()
        while self.keyword("OR"):
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.keyword("AND"):
            left = And(left, self.negation())
        return left

    def negation(self) -> Expr:
        if self.keyword("NOT"):
            return Not(self.negation())
        return self.predicate()

    def predicate(self) -> Expr:
        left = self.operand()
        token = self.current
        if token.kind == "op" and token.value in _COMPARISONS:
            self.advance()
            op = "<>" if token.value == "!=" else token.value
            return Compare(op, left, self.operand())
        if self.keyword("IS"):
            negated = self.keyword("NOT")
            self.expect_keyword("NULL")
            return IsNull(left, negated)
        negated = self.keyword("NOT")
        if self.keyword("IN"):
            self.expect_op("(")
            items = [self.expr()]
            while self.op(","):
                items.append(self.expr())
            self.expect_op(")")
            return InList(left, tuple(items), negated)
        if self.keyword("LIKE"):
            return Like(left, self.operand(), negated)
        if self.keyword("BETWEEN"):
            low = self.operand()
            self.expect_keyword("AND")
            return Between(left, low, self.operand(), negated)
        if negated:
            raise self.error("IN, LIKE or BETWEEN after NOT")
        return left

    def operand(self) -> Expr:
        token = self.current
        if token.kind == "number":
            self.advance()
            return Literal(token.number)
        if token.kind == "op" and token.value == "-":
            self.advance()
            number = self.current
            if number.kind != "number" or number.number is None:
                raise self.error("a number after '-'")
            self.advance()
            return Literal(-number.number)
        if token.kind == "string":
            self.advance()
            return Literal(token.value)
        if self.keyword("NULL"):
            return Literal(None)
        if self.op("("):
            if self.current.kind == "keyword" and self.current.value == "SELECT":
                subquery = Subquery(self.select())
                self.expect_op(")")
                return subquery
            inner = self.expr()
            self.expect_op(")")
            return inner
        if token.kind != "ident":
            raise self.error("a column, literal or function")
        parts = [self.ident("a name")]
        while self.op("."):
            parts.append(self.ident("a name after '.'"))
        if self.op("("):
            args: list[Expr] = []
            if not self.op(")"):
                args.append(self.expr())
                while self.op(","):
                    args.append(self.expr())
                self.expect_op(")")
            return Call(".".join(parts).upper(), tuple(args))
        if len(parts) > 2:
            raise SuiteQLSyntaxError(
                f"Syntax error at {token.where()}: {'.'.join(parts)!r} is not a column."
            )
        return Column(parts[-1], parts[0] if len(parts) == 2 else None)


def parse(text: str) -> Query:
    """Parse one SuiteQL query or raise `SuiteQLSyntaxError`."""
    return _Parser(text).statement()
