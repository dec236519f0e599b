"""engagements / customers connections: filters, ordering, pages, bad input."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sandboxes.firm import Firm, Opportunity
from tests.graph_support import GraphClient, graph_client

LIST = """query L($filter: EngagementFilterInput, $first: Int, $after: String,
                 $orderBy: EngagementOrder! = KEY_ASC) {
  engagements(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    totalCount
    edges { cursor node { key name status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


@pytest.fixture
async def graph(firm: Firm) -> AsyncIterator[GraphClient]:
    async with graph_client(firm) as client:
        yield client


def expected_status(firm: Firm, opp: Opportunity) -> str:
    if opp.stage == "Closed Lost":
        return "LOST"
    if opp.stage != "Closed Won":
        return "QUALIFYING"
    engagement = next(e for e in firm.engagements if e.key == opp.engagement_key)
    if "kantata" not in engagement.present_in:
        return "WON"
    return "COMPLETED" if engagement.status == "COMPLETED" else "ACTIVE"


async def test_paging_walks_every_engagement_once_in_key_order(
    graph: GraphClient, firm: Firm
) -> None:
    keys: list[str] = []
    after = None
    while True:
        page = (await graph.data(LIST, {"first": 40, "after": after}))["engagements"]
        keys += [edge["node"]["key"] for edge in page["edges"]]
        assert page["totalCount"] == len(firm.opportunities)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert keys == sorted(o.engagement_key for o in firm.opportunities)
    assert page["pageInfo"]["hasPreviousPage"] is True


async def test_status_of_every_engagement_follows_crm_and_psa(
    graph: GraphClient, firm: Firm
) -> None:
    want = Counter(expected_status(firm, o) for o in firm.opportunities)
    for status, count in want.items():
        page = (await graph.data(LIST, {"filter": {"status": status}, "first": 1}))["engagements"]
        assert page["totalCount"] == count, status


@pytest.mark.parametrize(
    ("field", "attr"),
    [("legalEntity", "legal_entity"), ("billingModel", "billing_model"),
     ("serviceLine", "service_line"), ("customerId", "customer")],
)  # fmt: skip
async def test_each_filter_matches_the_crm_facts(
    graph: GraphClient, firm: Firm, field: str, attr: str
) -> None:
    value = getattr(firm.opportunities[3], attr)
    want = sorted(o.engagement_key for o in firm.opportunities if getattr(o, attr) == value)
    page = (await graph.data(LIST, {"filter": {field: value}, "first": 100}))["engagements"]
    assert page["totalCount"] == len(want)
    assert [e["node"]["key"] for e in page["edges"]] == want[:100]


async def test_text_filter_and_name_order(graph: GraphClient, firm: Firm) -> None:
    word = firm.opportunities[0].name.split()[0]
    want = sorted(
        (o for o in firm.opportunities if word.casefold() in o.name.casefold()),
        key=lambda o: (o.name.casefold(), o.engagement_key),
    )
    page = await graph.data(LIST, {"filter": {"text": word}, "first": 100, "orderBy": "NAME_ASC"})
    assert [e["node"]["name"] for e in page["engagements"]["edges"]] == [o.name for o in want]


async def test_a_filter_matching_nothing_is_an_empty_connection(graph: GraphClient) -> None:
    page = (await graph.data(LIST, {"filter": {"text": "no-such-thing-anywhere"}}))["engagements"]
    assert page == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_bad_paging_arguments_are_clear_errors(graph: GraphClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"first": 101}, "at most 100"),
        ({"first": -2}, "negative"),
        ({"after": "not-a-cursor"}, "invalid cursor"),
    ]
    for variables, needle in cases:
        body = await graph.query(LIST, variables)
        assert body["data"] == {"engagements": None}
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", variables
        assert needle in error["message"]


async def test_wrong_variable_types_are_graphql_errors_not_crashes(graph: GraphClient) -> None:
    body = await graph.query(LIST, {"first": "ten"})
    assert "errors" in body and "Int" in body["errors"][0]["message"]
    body = await graph.query(LIST, {"filter": {"status": "SLEEPING"}})
    assert "errors" in body


async def test_nested_time_entries_filter_and_page(graph: GraphClient, firm: Firm) -> None:
    e = next(x for x in firm.engagements if x.billing_model == "TIME_AND_MATERIALS")
    entries = [t for t in firm.time_entries if t.engagement_key == e.key]
    query = """query T($key: String!, $filter: TimeEntryFilter, $after: String) {
      engagement(key: $key) { timeEntries(filter: $filter, first: 50, after: $after) {
        totalCount edges { node { id spentDate approval billed } }
        pageInfo { hasNextPage endCursor } } } }"""
    approved = await graph.data(query, {"key": e.key, "filter": {"approval": "APPROVED"}})
    conn = approved["engagement"]["timeEntries"]
    assert conn["totalCount"] == sum(1 for t in entries if t.approved)
    assert {n["node"]["approval"] for n in conn["edges"]} == {"APPROVED"}
    month = await graph.data(
        query, {"key": e.key, "filter": {"from": "2026-03-01", "to": "2026-03-31"}}
    )
    march = [t for t in entries if t.spent_date.year == 2026 and t.spent_date.month == 3]
    assert month["engagement"]["timeEntries"]["totalCount"] == len(march)
    unbilled = await graph.data(query, {"key": e.key, "filter": {"billed": False}})
    assert unbilled["engagement"]["timeEntries"]["totalCount"] == sum(
        1 for t in entries if t.invoice is None
    )
    seen: list[str] = []
    after = None
    while True:
        page = (await graph.data(query, {"key": e.key, "after": after}))["engagement"]
        seen += [n["node"]["id"] for n in page["timeEntries"]["edges"]]
        if not page["timeEntries"]["pageInfo"]["hasNextPage"]:
            break
        after = page["timeEntries"]["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == len(entries)


async def test_customers_connection_lists_the_erp_master(graph: GraphClient, firm: Firm) -> None:
    query = """query C($filter: CustomerFilterInput) { customers(filter: $filter, first: 100) {
      totalCount nodes { key name legalEntity { code } } } }"""
    everyone = (await graph.data(query))["customers"]
    assert everyone["totalCount"] == len(firm.customers) + len(firm.duplicate_customers)
    uk = (await graph.data(query, {"filter": {"legalEntity": "UK"}}))["customers"]
    want = [c for c in [*firm.customers, *firm.duplicate_customers] if c.legal_entity == "UK"]
    assert uk["totalCount"] == len(want)
    assert {c["legalEntity"]["code"] for c in uk["nodes"]} == {"UK"}


async def test_ids_of_no_node_type_and_bad_entity_representations_are_bad_input(
    graph: GraphClient,
) -> None:
    node = "query N($id: ID!) { node(id: $id) { id } }"
    for raw in (b"Payment:1", b"Nothing:1"):
        body = await graph.query(node, {"id": base64.b64encode(raw).decode()})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    entities = "query E($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    for representation in ({"__typename": "Nope", "key": "x"}, "text", {"key": "ENG-2026-00001"}):
        body = await graph.query(entities, {"r": [representation]})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


async def test_query_cost_limits_refuse_alias_storms_deep_queries_and_huge_bodies(
    graph: GraphClient,
) -> None:
    storm = (
        "{ " + " ".join(f"a{i}: engagements(first: 1) {{ totalCount }}" for i in range(16)) + " }"
    )
    body = await graph.query(storm)
    assert "aliases" in body["errors"][0]["message"]
    hop = "opportunity { engagement { "
    deep = "{ engagements { nodes { " + hop * 5 + "key" + " }" * 13  # depth 13 > 10
    body = await graph.query(deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"], body
    huge = await graph.http.post(
        "/graphql",
        content=b'{"query": "{ systems { name } }", "variables": {"pad": "'
        + b"x" * 1_100_000
        + b'"}}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
