"""The sandbox's SuiteQL: tokenizer, parser and engine semantics (Oracle-style)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandboxes.netsuite.state import Store
from sandboxes.netsuite.suiteql import QueryError, SuiteQLSyntaxError, execute, parse
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
)
from sandboxes.netsuite.suiteql.lexer import tokenize

# (id, companyName, tax jurisdiction, inactive, last modified)
CUSTOMERS: list[tuple[int, str, str | None, bool, datetime]] = [
    (2001, "Acme Retail", "US-NY", False, datetime(2026, 5, 31, 14, 2, 11, tzinfo=UTC)),
    (2002, "Globex Energy", None, False, datetime(2026, 6, 1, 9, 0, 0, tzinfo=UTC)),
    (2003, "Initech_Media", "US-CA", True, datetime(2026, 4, 30, 23, 59, 59, tzinfo=UTC)),
    (2004, "Acme Health", "US-NY", False, datetime(2026, 6, 15, 8, 30, 0, tzinfo=UTC)),
    (2005, "O'Brien Foods", None, False, datetime(2026, 6, 15, 8, 30, 0, tzinfo=UTC)),
]


@pytest.fixture(scope="module")
def store() -> Store:
    store = Store()
    store.insert("currency", {"id": "1", "name": "US Dollar", "symbol": "USD"})
    store.insert("subsidiary", {"id": "1", "name": "Northwind Inc.", "currency": "1"})
    for number, name, tax, inactive, modified in CUSTOMERS:
        record: dict[str, Any] = {
            "id": str(number),
            "companyName": name,
            "entityId": name,
            "subsidiary": "1",
            "currency": "1",
            "isInactive": inactive,
            "lastModifiedDate": modified,
            "externalId": f"CUST-{number}",
        }
        if tax is not None:
            record["custentity_eg_tax_jurisdiction"] = tax
        store.insert("customer", record)
    return store


def ids(store: Store, where: str, order: str = "id") -> list[int]:
    rows = execute(store, f"SELECT id FROM customer WHERE {where} ORDER BY {order}")
    return [int(row["id"]) for row in rows]


# --- tokenizer ------------------------------------------------------------------


def test_tokens_fold_keywords_and_names_and_unescape_strings() -> None:
    tokens = tokenize("select CompanyName FROM customer where x = 'O''Brien' -- note\n AND y=1.50")
    kinds = [(t.kind, t.value) for t in tokens]
    assert kinds == [
        ("keyword", "SELECT"),
        ("ident", "companyname"),
        ("keyword", "FROM"),
        ("ident", "customer"),
        ("keyword", "WHERE"),
        ("ident", "x"),
        ("op", "="),
        ("string", "O'Brien"),
        ("keyword", "AND"),
        ("ident", "y"),
        ("op", "="),
        ("number", "1.50"),
        ("eof", ""),
    ]
    assert tokens[-2].number == Decimal("1.50")
    assert (tokens[-4].line, tokens[-4].column) == (2, 6)


def test_an_unknown_character_is_reported_with_its_position() -> None:
    with pytest.raises(SuiteQLSyntaxError, match=r"line 1, column 18: unexpected character '\?'"):
        tokenize("SELECT id FROM c ? x")


# --- parser -----------------------------------------------------------------------


def test_and_binds_tighter_than_or_and_not_applies_to_its_operand() -> None:
    query = parse("SELECT id FROM customer WHERE a = 1 OR NOT b = 2 AND c = 3")
    assert query.where == Or(
        Compare("=", Column("a"), Literal(Decimal(1))),
        And(
            Not(Compare("=", Column("b"), Literal(Decimal(2)))),
            Compare("=", Column("c"), Literal(Decimal(3))),
        ),
    )


def test_parentheses_override_precedence() -> None:
    query = parse("SELECT id FROM customer WHERE (a = 1 OR b = 2) AND c <> 3")
    assert isinstance(query.where, And)
    assert isinstance(query.where.left, Or)
    assert query.where.right == Compare("<>", Column("c"), Literal(Decimal(3)))


def test_predicates_parse_to_their_nodes() -> None:
    query = parse(
        "SELECT id FROM customer c WHERE c.id NOT IN (1, -2) AND name LIKE 'A%' "
        "AND tax IS NOT NULL AND id BETWEEN 1 AND 9 AND x != 'y' AND name NOT LIKE '_b'"
    )
    assert query.alias == "c"
    conditions: list[Expr] = []
    node = query.where
    assert node is not None
    while isinstance(node, And):
        conditions.insert(0, node.right)
        node = node.left
    conditions.insert(0, node)
    assert conditions == [
        InList(Column("id", "c"), (Literal(Decimal(1)), Literal(Decimal(-2))), negated=True),
        Like(Column("name"), Literal("A%"), negated=False),
        IsNull(Column("tax"), negated=True),
        Between(Column("id"), Literal(Decimal(1)), Literal(Decimal(9)), negated=False),
        Compare("<>", Column("x"), Literal("y")),
        Like(Column("name"), Literal("_b"), negated=True),
    ]


def test_select_items_take_aliases_with_or_without_as_and_functions() -> None:
    query = parse(
        "SELECT DISTINCT id, BUILTIN.DF(status) AS label, TO_CHAR(d, 'YYYY') yr FROM transaction "
        "ORDER BY label DESC NULLS LAST, 1"
    )
    assert query.distinct
    assert [(item.alias) for item in query.items] == [None, "label", "yr"]
    assert query.items[1].expr == Call("BUILTIN.DF", (Column("status"),))
    assert [(o.descending, o.nulls_first) for o in query.order] == [(True, False), (False, None)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT FROM customer", "expected a column, literal or function, found 'FROM'"),
        ("SELECT id customer", "expected FROM, found end of query"),
        ("SELECT id FROM customer WHERE id = 1 id", "expected end of query, found 'id'"),
        ("SELECT id FROM customer WHERE NOT", "found end of query"),
        ("SELECT id FROM customer WHERE id NOT 5", "expected IN, LIKE or BETWEEN after NOT"),
        ("SELECT id FROM customer WHERE name = 'open", "unexpected character"),
        ("SELECT id FROM customer c JOIN job j ON j.parent = c.id", "JOIN is not supported"),
        ("SELECT id FROM customer GROUP BY id", "GROUP is not supported"),
        ("SELECT a.b.c FROM customer", "'a.b.c' is not a column"),
    ],
)
def test_syntax_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(SuiteQLSyntaxError, match="Syntax error at line 1") as caught:
        parse(text)
    assert message in str(caught.value)


# --- engine -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("id = 2002", [2002]),
        ("id <> 2002 AND id != 2003", [2001, 2004, 2005]),
        ("id < 2002 OR id >= 2005", [2001, 2005]),
        ("id <= 2002", [2001, 2002]),
        ("id > 2004", [2005]),
        ("id = '2003'", [2003]),
        ("companyname = 'O''Brien Foods'", [2005]),
        ("id IN (2001, 2005, 9999)", [2001, 2005]),
        ("id NOT IN (2001, 2005)", [2002, 2003, 2004]),
        ("id BETWEEN 2002 AND 2004", [2002, 2003, 2004]),
        ("id NOT BETWEEN 2002 AND 2004", [2001, 2005]),
        ("isinactive = 'T'", [2003]),
    ],
)
def test_comparisons_select_the_right_rows(store: Store, where: str, expected: list[int]) -> None:
    assert ids(store, where) == expected


def test_null_is_neither_equal_nor_unequal(store: Store) -> None:
    tax = "custentity_eg_tax_jurisdiction"
    assert ids(store, f"{tax} = 'US-NY'") == [2001, 2004]
    assert ids(store, f"{tax} <> 'US-NY'") == [2003]
    assert ids(store, f"NOT ({tax} = 'US-NY')") == [2003]
    assert ids(store, f"{tax} IS NULL") == [2002, 2005]
    assert ids(store, f"{tax} = 'US-CA' OR {tax} IS NULL") == [2002, 2003, 2005]


def test_not_in_a_list_holding_null_matches_nothing(store: Store) -> None:
    assert ids(store, "id NOT IN (2001, NULL)") == []
    assert ids(store, "id IN (2001, NULL)") == [2001]


def test_like_uses_percent_and_underscore_and_is_case_sensitive(store: Store) -> None:
    assert ids(store, "companyname LIKE 'Acme%'") == [2001, 2004]
    assert ids(store, "companyname LIKE 'acme%'") == []
    assert ids(store, "companyname LIKE 'Initech_Media'") == [2003]
    assert ids(store, "companyname LIKE '_lobex%'") == [2002]
    assert ids(store, "companyname NOT LIKE '%e%'") == []


def test_order_by_several_keys_with_nulls_last_ascending(store: Store) -> None:
    tax = "custentity_eg_tax_jurisdiction"
    assert ids(store, "id > 0", f"{tax}, id DESC") == [2003, 2004, 2001, 2005, 2002]
    assert ids(store, "id > 0", f"{tax} DESC, id") == [2002, 2005, 2001, 2004, 2003]
    assert ids(store, "id > 0", f"{tax} NULLS FIRST, id") == [2002, 2005, 2003, 2001, 2004]


def test_order_by_alias_and_position(store: Store) -> None:
    rows = execute(store, "SELECT companyname AS n, id FROM customer ORDER BY n DESC")
    assert [row["n"] for row in rows][:2] == ["O'Brien Foods", "Initech_Media"]
    by_position = execute(store, "SELECT id, companyname FROM customer ORDER BY 2")
    assert by_position[0]["companyname"] == "Acme Health"


def test_output_rows_are_strings_keyed_lowercase_without_nulls(store: Store) -> None:
    rows = execute(
        store,
        "SELECT Id, custentity_eg_tax_jurisdiction, BUILTIN.DF(subsidiary) AS Sub, "
        "UPPER(companyname), lastmodifieddate FROM customer WHERE id IN (2001, 2002) ORDER BY id",
    )
    assert rows == [
        {
            "links": [],
            "id": "2001",
            "custentity_eg_tax_jurisdiction": "US-NY",
            "sub": "Northwind Inc.",
            "expr1": "ACME RETAIL",
            "lastmodifieddate": "31/5/2026",
        },
        {
            "links": [],
            "id": "2002",
            "sub": "Northwind Inc.",
            "expr1": "GLOBEX ENERGY",
            "lastmodifieddate": "1/6/2026",
        },
    ]


def test_distinct_collapses_equal_rows(store: Store) -> None:
    rows = execute(store, "SELECT DISTINCT custentity_eg_tax_jurisdiction AS t FROM customer")
    assert sorted(row.get("t", "-") for row in rows) == ["-", "US-CA", "US-NY"]


def test_select_star_returns_every_non_null_column(store: Store) -> None:
    (row,) = execute(store, "SELECT * FROM customer WHERE id = 2001")
    assert row["companyname"] == "Acme Retail"
    assert row["isinactive"] == "F"
    assert "email" not in row


def test_dates_compare_with_day_month_year_or_iso_literals(store: Store) -> None:
    assert ids(store, "lastmodifieddate >= '1/6/2026'") == [2002, 2004, 2005]
    assert ids(store, "lastmodifieddate < '2026-05-01'") == [2003]
    assert ids(
        store, "lastmodifieddate > TO_DATE('2026-06-01 09:00:00', 'YYYY-MM-DD HH24:MI:SS')"
    ) == [
        2004,
        2005,
    ]


def test_to_char_formats_timestamps(store: Store) -> None:
    (row,) = execute(
        store,
        "SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS m, "
        "TO_CHAR(lastmodifieddate, 'DD.MM.YYYY') AS d FROM customer WHERE id = 2001",
    )
    assert (row["m"], row["d"]) == ("2026-05-31T14:02:11", "31.05.2026")


def test_nvl_and_coalesce_fill_nulls(store: Store) -> None:
    rows = execute(
        store,
        "SELECT NVL(custentity_eg_tax_jurisdiction, 'none') AS t FROM customer "
        "WHERE COALESCE(custentity_eg_tax_jurisdiction, 'none') = 'none' ORDER BY id",
    )
    assert [row["t"] for row in rows] == ["none", "none"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT shoesize FROM customer", "Field 'shoesize' for record 'customer' was not found"),
        ("SELECT id FROM spaceship", "Record 'spaceship' was not found"),
        ("SELECT x.id FROM customer c", "Unknown table alias 'x'"),
        ("SELECT id FROM customer WHERE id = 'abc'", "Invalid number: 'abc'"),
        ("SELECT id FROM customer WHERE lastmodifieddate > 'soon'", "does not match"),
        ("SELECT id FROM customer WHERE id = lastmodifieddate", "Inconsistent datatypes"),
        ("SELECT FOO(id) FROM customer", "Unknown function 'FOO'"),
        ("SELECT BUILTIN.DF('x') FROM customer", "BUILTIN.DF takes a column"),
        ("SELECT UPPER(id, id) FROM customer", "Wrong number of arguments"),
        ("SELECT id FROM customer ORDER BY 3", "out of range"),
    ],
)
def test_semantic_errors_name_the_problem(store: Store, query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        execute(store, query)
    assert message in str(caught.value)


@given(st.lists(st.integers(min_value=1990, max_value=2010), max_size=12))
def test_in_list_agrees_with_python_membership(values: list[int]) -> None:
    store = Store()
    for number, name, *_ in CUSTOMERS:
        store.insert("customer", {"id": str(number), "companyName": name})
    where = f"id IN ({', '.join(map(str, values))})" if values else "id IS NULL"
    expected = sorted({n for n, *_ in CUSTOMERS} & set(values))
    assert ids(store, where) == expected


@given(st.permutations([number for number, *_ in CUSTOMERS]), st.booleans())
def test_order_by_agrees_with_python_sorting(order: list[int], descending: bool) -> None:
    store = Store()
    for number in order:
        store.insert("customer", {"id": str(number), "companyName": f"C{number % 3}"})
    rows = execute(
        store,
        f"SELECT id, companyname FROM customer ORDER BY companyname {'DESC' if descending else ''}"
        ", id",
    )
    got = [(row["companyname"], int(row["id"])) for row in rows]
    keyed = sorted(((f"C{n % 3}", n) for n in order), key=lambda pair: pair[1])
    keyed.sort(key=lambda pair: pair[0], reverse=descending)
    assert got == keyed


def test_date_values_render_day_month_year_without_padding() -> None:
    store = Store()
    store.insert("job", {"id": "1", "companyName": "P", "startDate": date(2026, 1, 5)})
    (row,) = execute(store, "SELECT startdate FROM job")
    assert row["startdate"] == "5/1/2026"
