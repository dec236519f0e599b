"""SOQL tokenizer: identifiers (with dotted paths), literals, operators, punctuation.

Keywords are not distinguished here: the parser compares identifier text
case-insensitively, as SOQL does. Every token records its row and column so
errors can point at it the way Salesforce does (``ERROR at Row:1:Column:30``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sandboxes.salesforce.soql.errors import SoqlError, malformed

__all__ = ["Token", "TokenKind", "tokenize"]

TokenKind = Literal[
    "IDENT", "STRING", "NUMBER", "DATE", "DATETIME", "OP", "COMMA", "LPAREN", "RPAREN", "EOF"
]

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\w:])")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?![\w.])")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPERATORS = ("<=", ">=", "!=", "<>", "=", "<", ">")


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str  # the source text (a string literal's decoded value for STRING)
    row: int
    column: int
    raw: str = ""  # a string literal's text between the quotes, escapes intact


def _string(source: str, start: int, row: int, column: int) -> tuple[Token, int]:
    """Read a quoted literal starting at `start` (the quote); return it and the end offset."""
    out: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "'":
            return Token("STRING", "".join(out), row, column, source[start + 1 : i]), i + 1
        if char == "\\":
            if i + 1 >= len(source):
                break
            nxt = source[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif nxt in "_%":
                out.append(nxt)  # meaningful only inside LIKE patterns (see `raw`)
            else:
                raise malformed(
                    source, row, column,
                    f"Invalid string literal '{source[start:i + 2]}'. Illegal character "
                    f"sequence '\\{nxt}' in string literal.",
                )  # fmt: skip
            i += 2
            continue
        if char == "\n":
            break
        out.append(char)
        i += 1
    raise malformed(
        source, row, column, f"line {row}:{column - 1} mismatched character '<EOF>' expecting '''"
    )


def tokenize(source: str) -> list[Token]:
    """Split a SOQL statement into tokens (ending with EOF); raise SoqlError on junk."""
    tokens: list[Token] = []
    i, row, line_start = 0, 1, 0
    while i < len(source):
        char = source[i]
        column = i - line_start + 1
        if char == "\n":
            i, row, line_start = i + 1, row + 1, i + 1
            continue
        if char.isspace():
            i += 1
            continue
        if char == "'":
            token, i = _string(source, i, row, column)
            tokens.append(token)
            continue
        if char in ",()":
            kind: TokenKind = "COMMA" if char == "," else "LPAREN" if char == "(" else "RPAREN"
            tokens.append(Token(kind, char, row, column))
            i += 1
            continue
        op = next((o for o in _OPERATORS if source.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("OP", op, row, column))
            i += len(op)
            continue
        for kind, pattern in (("DATETIME", _DATETIME), ("DATE", _DATE), ("NUMBER", _NUMBER)):
            match = pattern.match(source, i)
            if match:
                tokens.append(Token(kind, match.group(), row, column))
                i = match.end()
                break
        else:
            match = _IDENT.match(source, i)
            if match is None:
                raise _unexpected_char(source, row, column, char)
            tokens.append(Token("IDENT", match.group(), row, column))
            i = match.end()
    tokens.append(Token("EOF", "<EOF>", row, len(source) - line_start + 1))
    return tokens


def _unexpected_char(source: str, row: int, column: int, char: str) -> SoqlError:
    return malformed(
        source, row, column, f"line {row}:{column - 1} no viable alternative at character '{char}'"
    )
