"""Name resolution and type checks: a parsed query checked against the org schema.

Unknown objects give INVALID_TYPE, unknown fields or relationships
INVALID_FIELD, a literal of the wrong type INVALID_FIELD ("must be of type
date and should not be enclosed in quotes"), a malformed id in a filter
INVALID_QUERY_FILTER_OPERATOR, all pointing at the offending token.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandboxes.salesforce.ids import is_valid_id
from sandboxes.salesforce.schema import SField, SObjectSchema, schema_for
from sandboxes.salesforce.soql.ast import (
    And,
    Comparison,
    Condition,
    FieldRef,
    InList,
    Literal,
    Not,
    Or,
    Query,
)
from sandboxes.salesforce.soql.errors import SoqlError, invalid_field, invalid_type, pointed

__all__ = ["MAX_OFFSET", "CompiledQuery", "ResolvedField", "compile_query"]

MAX_OFFSET = 2000
_TYPE_NAMES = {
    "currency": "currency", "double": "double", "percent": "double", "int": "integer",
    "date": "date", "datetime": "dateTime", "boolean": "boolean",
}  # fmt: skip
_LITERAL_FOR = {
    "currency": "number", "double": "number", "percent": "number", "int": "number",
    "date": "date", "datetime": "datetime", "boolean": "boolean",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ResolvedField:
    ref: FieldRef
    hops: tuple[SField, ...]  # reference fields walked (AccountId for Account.Name)
    field: SField
    names: tuple[str, ...]  # canonical output path: ("Account", "Name")


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    query: Query
    schema: SObjectSchema
    fields: tuple[ResolvedField, ...]
    resolved: dict[FieldRef, ResolvedField]


class _Compiler:
    def __init__(self, source: str, query: Query) -> None:
        self.source = source
        self.query = query
        found = schema_for(query.sobject)
        if found is None:
            raise invalid_type(source, query.sobject_row, query.sobject_column, query.sobject)
        self.schema = found
        self.resolved: dict[FieldRef, ResolvedField] = {}

    def resolve(self, ref: FieldRef) -> ResolvedField:
        schema = self.schema
        hops: list[SField] = []
        names: list[str] = []
        for part in ref.path[:-1]:
            hop = schema.relationship(part)
            target = schema_for(hop.reference_to or "") if hop else None
            if hop is None or target is None or hop.relationship is None:
                raise invalid_field(
                    self.source, ref.row, ref.column,
                    f"Didn't understand relationship '{part}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' "
                    "after the custom relationship name. Please reference your WSDL or the "
                    "describe call for the appropriate names.",
                )  # fmt: skip
            hops.append(hop)
            names.append(hop.relationship)
            schema = target
        leaf = schema.field(ref.path[-1])
        if leaf is None:
            raise invalid_field(
                self.source, ref.row, ref.column,
                f"No such column '{ref.path[-1]}' on entity '{schema.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the custom "
                "field name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )  # fmt: skip
        resolved = ResolvedField(ref, tuple(hops), leaf, (*names, leaf.name))
        self.resolved[ref] = resolved
        return resolved

    def check_literal(self, resolved: ResolvedField, literal: Literal, op: str) -> None:
        field = resolved.field
        if literal.kind == "null":
            if op not in ("=", "!=", "in"):
                raise SoqlError(
                    "MALFORMED_QUERY",
                    pointed(self.source, literal.row, literal.column, "unexpected token: 'null'"),
                )
            return
        if field.type in ("id", "reference"):
            if literal.kind != "string":
                raise self.wrong_type(field.name, "id", literal, quoted=True)
            if not is_valid_id(str(literal.value)):
                raise SoqlError(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    pointed(
                        self.source, literal.row, literal.column,
                        f"invalid ID field: {literal.value}",
                    ),
                )  # fmt: skip
            return
        if field.is_string:
            if literal.kind != "string":
                raise self.wrong_type(field.name, "string", literal, quoted=True)
            return
        if literal.kind != _LITERAL_FOR[field.type]:
            raise self.wrong_type(field.name, _TYPE_NAMES[field.type], literal, quoted=False)

    def wrong_type(self, name: str, type_name: str, literal: Literal, *, quoted: bool) -> SoqlError:
        quoting = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return invalid_field(
            self.source, literal.row, literal.column,
            f"value of filter criterion for field '{name}' must be of type {type_name} "
            f"and {quoting}",
        )  # fmt: skip

    def condition(self, node: Condition) -> None:
        if isinstance(node, And | Or):
            for item in node.items:
                self.condition(item)
        elif isinstance(node, Not):
            self.condition(node.item)
        elif isinstance(node, Comparison):
            self.check_literal(self.resolve(node.field), node.value, node.op)
        elif isinstance(node, InList):
            resolved = self.resolve(node.field)
            for value in node.values:
                self.check_literal(resolved, value, "in")
        else:
            resolved = self.resolve(node.field)
            if not resolved.field.is_string:
                raise SoqlError(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    pointed(
                        self.source, node.field.row, node.field.column,
                        f"invalid operator on {resolved.field.type} field: LIKE",
                    ),
                )  # fmt: skip
            if node.pattern.kind != "string":
                raise self.wrong_type(resolved.field.name, "string", node.pattern, quoted=True)

    def run(self) -> CompiledQuery:
        selected: list[ResolvedField] = []
        seen: set[tuple[str, ...]] = set()
        for ref in self.query.fields:
            resolved = self.resolve(ref)
            key = tuple(n.lower() for n in resolved.names)
            if key in seen:
                raise SoqlError(
                    "MALFORMED_QUERY", f"duplicate field selected: {'.'.join(resolved.names)}"
                )
            seen.add(key)
            selected.append(resolved)
        if self.query.where is not None:
            self.condition(self.query.where)
        for item in self.query.order_by:
            self.resolve(item.field)
        if self.query.offset is not None and self.query.offset > MAX_OFFSET:
            raise SoqlError(
                "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
            )
        return CompiledQuery(self.query, self.schema, tuple(selected), self.resolved)


def compile_query(source: str, query: Query) -> CompiledQuery:
    """Resolve every name in `query` against the schema and check literal types."""
    return _Compiler(source, query).run()
