"""The sandbox's SOQL subset: tokenizer, parser, name resolution and engine semantics."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.salesforce import soql as adapter_soql
from sandboxes.salesforce.schema import SObjectSchema, schema_for
from sandboxes.salesforce.soql import SoqlError, compile_query, execute, parse
from sandboxes.salesforce.soql.ast import And, Comparison, InList, Like, Not, Or
from sandboxes.salesforce.soql.lexer import tokenize


def _error(source: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        compile_query(source, parse(source))
    return caught.value


# -- tokenizer ---------------------------------------------------------------------------


def test_tokenizer_reads_literals_operators_and_positions() -> None:
    tokens = tokenize(
        "SELECT Id FROM Opportunity\nWHERE Amount >= -12.50 AND CloseDate < 2024-05-01"
    )
    kinds = [(t.kind, t.text) for t in tokens]
    assert ("OP", ">=") in kinds
    assert ("NUMBER", "-12.50") in kinds
    assert ("DATE", "2024-05-01") in kinds
    where = next(t for t in tokens if t.text == "WHERE")
    assert (where.row, where.column) == (2, 1)
    assert tokens[-1].kind == "EOF"


def test_tokenizer_decodes_string_escapes_and_keeps_the_raw_text() -> None:
    token = tokenize(r"'O\'Brien \\ 50\% \n'")[0]
    assert token.kind == "STRING"
    assert token.text == "O'Brien \\ 50% \n"
    assert token.raw == r"O\'Brien \\ 50\% \n"


def test_tokenizer_reads_datetimes_with_offsets() -> None:
    tokens = tokenize("2024-05-01T10:00:00Z 2024-05-01T10:00:00.123+0100")
    assert [t.kind for t in tokens[:2]] == ["DATETIME", "DATETIME"]


def test_unterminated_string_is_malformed() -> None:
    error = _error("SELECT Id FROM Account WHERE Name = 'Acme")
    assert error.code == "MALFORMED_QUERY"
    assert "<EOF>" in error.message


def test_illegal_escape_is_malformed() -> None:
    error = _error(r"SELECT Id FROM Account WHERE Name = 'a\qb'")
    assert error.code == "MALFORMED_QUERY"
    assert "Illegal character sequence '\\q'" in error.message


# -- parser ------------------------------------------------------------------------------


def test_parser_builds_the_full_statement() -> None:
    query = parse(
        "select Id, Account.Name from Opportunity where StageName = 'Closed Won' "
        "order by CloseDate desc nulls first, Name limit 10 offset 5"
    )
    assert [f.path for f in query.fields] == [("Id",), ("Account", "Name")]
    assert query.sobject == "Opportunity"
    assert isinstance(query.where, Comparison)
    assert query.where.value.value == "Closed Won"
    assert [(o.field.text, o.descending, o.nulls_last) for o in query.order_by] == [
        ("CloseDate", True, False),
        ("Name", False, False),
    ]
    assert (query.limit, query.offset) == (10, 5)


def test_parser_reads_count_and_typed_literals() -> None:
    query = parse(
        "SELECT COUNT() FROM Opportunity WHERE Amount > 10.5 AND IsWon = TRUE AND "
        "CloseDate = 2024-05-31 AND SystemModstamp > 2024-05-01T00:00:00Z AND AccountId = null"
    )
    assert query.count and query.fields == ()
    assert isinstance(query.where, And)
    values = [c.value.value for c in query.where.items if isinstance(c, Comparison)]
    assert values == [
        Decimal("10.5"),
        True,
        date(2024, 5, 31),
        datetime(2024, 5, 1, tzinfo=UTC),
        None,
    ]


def test_parser_nests_not_parentheses_in_and_like() -> None:
    query = parse(
        "SELECT Id FROM Account WHERE NOT (Name LIKE 'Acme%' OR Industry IN ('Energy', 'Media')) "
        "AND Type NOT IN ('Prospect') AND Name <> 'x'"
    )
    assert isinstance(query.where, And)
    negated, not_in, different = query.where.items
    assert isinstance(negated, Not) and isinstance(negated.item, Or)
    like, in_list = negated.item.items
    assert isinstance(like, Like) and isinstance(in_list, InList) and not in_list.negated
    assert isinstance(not_in, InList) and not_in.negated
    assert isinstance(different, Comparison) and different.op == "!="


@pytest.mark.parametrize(
    ("source", "token"),
    [
        ("SELECT Id FRM Account", "FRM"),
        ("SELECT Id FROM Account WHERE", "<EOF>"),
        ("SELECT FROM Account", "FROM"),
        ("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", "OR"),
        ("SELECT Id FROM Account LIMIT ten", "ten"),
        ("SELECT Id FROM Account ORDER Name", "Name"),
        ("SELECT Id, FROM Account", "FROM"),
        ("SELECT Id FROM Account WHERE Name = 'a' extra", "extra"),
    ],
)
def test_syntax_errors_name_the_unexpected_token(source: str, token: str) -> None:
    error = _error(source)
    assert error.code == "MALFORMED_QUERY"
    assert error.message.endswith(f"unexpected token: '{token}'")


def test_syntax_error_points_at_row_and_column() -> None:
    error = _error("SELECT Id FRM Account")
    assert error.message == (
        "\nSELECT Id FRM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FRM'"
    )


# -- name resolution -----------------------------------------------------------------------


def test_unknown_object_is_invalid_type() -> None:
    error = _error("SELECT Id FROM Invoice__c")
    assert error.code == "INVALID_TYPE"
    assert "sObject type 'Invoice__c' is not supported" in error.message


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("SELECT Id, Colour FROM Account", "No such column 'Colour' on entity 'Account'"),
        ("SELECT Account.Colour FROM Opportunity", "No such column 'Colour' on entity 'Account'"),
        ("SELECT Parent.Name FROM Opportunity", "Didn't understand relationship 'Parent'"),
        ("SELECT Id FROM Opportunity WHERE Stage = 'x'", "No such column 'Stage'"),
        ("SELECT Id FROM Opportunity ORDER BY Size", "No such column 'Size'"),
    ],
)
def test_unknown_fields_are_invalid_field(source: str, detail: str) -> None:
    error = _error(source)
    assert error.code == "INVALID_FIELD"
    assert detail in error.message


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        (
            "SELECT Id FROM Opportunity WHERE CloseDate > '2024-01-01'",
            "field 'CloseDate' must be of type date and should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Opportunity WHERE Amount = '10'",
            "field 'Amount' must be of type currency",
        ),
        (
            "SELECT Id FROM Opportunity WHERE Name = 10",
            "field 'Name' must be of type string and should be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-01",
            "field 'SystemModstamp' must be of type dateTime",
        ),
    ],
)
def test_literals_of_the_wrong_type_are_refused(source: str, detail: str) -> None:
    error = _error(source)
    assert error.code == "INVALID_FIELD"
    assert detail in error.message


def test_malformed_id_in_a_filter_is_an_invalid_filter() -> None:
    error = _error("SELECT Id FROM Opportunity WHERE Id IN ('006000000000001', 'nope')")
    assert error.code == "INVALID_QUERY_FILTER_OPERATOR"
    assert error.message.endswith("invalid ID field: nope")


def test_like_on_a_number_field_is_refused() -> None:
    assert _error("SELECT Id FROM Opportunity WHERE Amount LIKE '1%'").code == (
        "INVALID_QUERY_FILTER_OPERATOR"
    )


def test_duplicate_fields_and_large_offsets_are_refused() -> None:
    assert _error("SELECT Id, id FROM Account").message == "duplicate field selected: Id"
    assert _error("SELECT Id FROM Account OFFSET 2001").code == "NUMBER_OUTSIDE_VALID_RANGE"


# -- engine semantics ----------------------------------------------------------------------


def _run(source: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    compiled = compile_query(source, parse(source))
    return execute(compiled, records, lambda _id: None)[1]


_ACCOUNTS: list[dict[str, Any]] = [
    {"Id": "001000000000001AAA", "Name": "Acme", "Industry": "Energy"},
    {"Id": "001000000000002AAA", "Name": "Globex", "Industry": None},
    {"Id": "001000000000003AAA", "Name": "acme labs", "Industry": "Media"},
]


def test_string_comparison_is_case_insensitive_and_like_uses_wildcards() -> None:
    assert [r["Name"] for r in _run("SELECT Name FROM Account WHERE Name = 'ACME'", _ACCOUNTS)] == [
        "Acme"
    ]
    names = [r["Name"] for r in _run("SELECT Name FROM Account WHERE Name LIKE 'acme%'", _ACCOUNTS)]
    assert names == ["Acme", "acme labs"]
    assert _run("SELECT Name FROM Account WHERE Name LIKE 'acm_'", _ACCOUNTS)[0]["Name"] == "Acme"


def test_not_equal_and_not_in_match_nulls() -> None:
    rows = _run("SELECT Name FROM Account WHERE Industry != 'Energy'", _ACCOUNTS)
    assert [r["Name"] for r in rows] == ["Globex", "acme labs"]
    rows = _run("SELECT Name FROM Account WHERE Industry NOT IN ('Media')", _ACCOUNTS)
    assert [r["Name"] for r in rows] == ["Acme", "Globex"]


def test_order_puts_nulls_first_ascending_and_last_descending() -> None:
    ascending = _run("SELECT Name FROM Account ORDER BY Industry", _ACCOUNTS)
    descending = _run("SELECT Name FROM Account ORDER BY Industry DESC", _ACCOUNTS)
    last = _run("SELECT Name FROM Account ORDER BY Industry NULLS LAST", _ACCOUNTS)
    assert [r["Name"] for r in ascending] == ["Globex", "Acme", "acme labs"]
    assert [r["Name"] for r in descending] == ["acme labs", "Acme", "Globex"]
    assert [r["Name"] for r in last] == ["Acme", "acme labs", "Globex"]


def test_fifteen_char_ids_match_their_eighteen_char_form() -> None:
    rows = _run("SELECT Id FROM Account WHERE Id = '001000000000002'", _ACCOUNTS)
    assert [r["Id"] for r in rows] == ["001000000000002AAA"]


def test_only_selected_fields_come_back_with_attributes() -> None:
    row = _run("SELECT Name FROM Account LIMIT 1", _ACCOUNTS)[0]
    assert row == {
        "attributes": {
            "type": "Account",
            "url": "/services/data/v60.0/sobjects/Account/001000000000001AAA",
        },
        "Name": "Acme",
    }


def test_schema_lookup_is_case_insensitive() -> None:
    schema = schema_for("opportunity")
    assert isinstance(schema, SObjectSchema)
    field = schema.field("engagement_key__c")
    assert field is not None and field.name == "Engagement_Key__c"


# -- the adapter's literals survive the sandbox's tokenizer ---------------------------------


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=40))
def test_adapter_string_literals_round_trip_through_the_tokenizer(value: str) -> None:
    statement = f"SELECT Id FROM Account WHERE Name = {adapter_soql.literal(value)}"
    query = parse(statement)
    assert isinstance(query.where, Comparison)
    assert query.where.value.value == value
