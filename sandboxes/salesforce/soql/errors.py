"""SOQL errors in Salesforce's words: the query line, a caret, Row/Column, the detail."""

from __future__ import annotations

__all__ = ["SoqlError", "invalid_field", "invalid_type", "malformed", "pointed"]


class SoqlError(Exception):
    """A query Salesforce refuses with 400 and `code` (MALFORMED_QUERY, INVALID_FIELD, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def pointed(source: str, row: int, column: int, detail: str) -> str:
    lines = source.split("\n")
    line = lines[row - 1] if 0 < row <= len(lines) else ""
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{detail}"


def malformed(source: str, row: int, column: int, detail: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", pointed(source, row, column, detail))


def invalid_field(source: str, row: int, column: int, detail: str) -> SoqlError:
    return SoqlError("INVALID_FIELD", pointed(source, row, column, detail))


def invalid_type(source: str, row: int, column: int, name: str) -> SoqlError:
    return SoqlError(
        "INVALID_TYPE",
        pointed(
            source,
            row,
            column,
            f"sObject type '{name}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name. Please reference your "
            "WSDL or the describe call for the appropriate names.",
        ),
    )
