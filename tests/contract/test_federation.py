"""The gateway as an Apollo Federation v2 subgraph: `_service { sdl }`, `_entities`
for each entity (Engagement by key; Customer, Project, Invoice by global id), and
composition with a second subgraph by @apollo/composition (tests/federation/)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from strawberry.relay import GlobalID

from sandboxes.firm import Engagement, Firm
from tests.graph_support import GraphClient, graph_client

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "tests" / "federation" / "compose.mjs"
REVIEWS = ROOT / "tests" / "federation" / "reviews.graphql"
COMPOSITION_PACKAGE = ROOT / "gateway" / "web" / "node_modules" / "@apollo" / "composition"

SELECTIONS = {
    "Engagement": "id key name status billingModel financials { billedToDate { amount currency } }",
    "Customer": "id key name status currency",
    "Project": "id psaId name status budget { amount currency } engagementKey",
    "Invoice": "id tranId status total { amount currency } amountRemaining { amount }",
}
NORMAL = f"""query Normal($key: String!) {{ engagement(key: $key) {{
  {SELECTIONS["Engagement"]}
  customer {{ {SELECTIONS["Customer"]} }}
  project {{ {SELECTIONS["Project"]} }}
  invoices(first: 1) {{ nodes {{ {SELECTIONS["Invoice"]} }} }}
}} }}"""
ENTITIES = """query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { __typename %s }
}"""
SDL = "{ _service { sdl } }"


@pytest.fixture
async def graph(firm: Firm) -> AsyncIterator[GraphClient]:
    async with graph_client(firm) as client:
        yield client


def _invoiced_engagement(firm: Firm) -> Engagement:
    """An active engagement with a project, a customer and invoices, nothing planted."""
    planted = {d.engagement_key for d in firm.discrepancies}
    invoiced = {i.engagement_key for i in firm.invoices}
    return next(
        e
        for e in firm.engagements
        if e.status == "ACTIVE" and e.key in invoiced and e.key not in planted
    )


def _entities_query(typename: str) -> str:
    return ENTITIES % f"... on {typename} {{ {SELECTIONS[typename]} }}"


async def _normal(graph: GraphClient, firm: Firm) -> dict[str, dict[str, Any]]:
    """Each entity as the ordinary query reaches it, by type name."""
    got = (await graph.data(NORMAL, {"key": _invoiced_engagement(firm).key}))["engagement"]
    nested = ("customer", "project", "invoices")
    return {
        "Engagement": {k: v for k, v in got.items() if k not in nested},
        "Customer": got["customer"],
        "Project": got["project"],
        "Invoice": got["invoices"]["nodes"][0],
    }


def _reference(typename: str, entity: dict[str, Any]) -> dict[str, Any]:
    field = "key" if typename == "Engagement" else "id"
    return {"__typename": typename, field: entity[field]}


async def test_service_sdl_declares_federation_v2_and_the_four_entity_keys(
    graph: GraphClient,
) -> None:
    sdl = (await graph.data(SDL))["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.' in sdl
    assert 'type Engagement implements Node @key(fields: "key")' in sdl
    for typename in ("Customer", "Project", "Invoice"):
        assert f'type {typename} implements Node @key(fields: "id")' in sdl
    assert "type Opportunity implements Node {" in sdl  # a node, not an entity
    assert "union _Entity = Customer | Engagement | Invoice | Project" in sdl


@pytest.mark.parametrize("typename", ["Engagement", "Customer", "Project", "Invoice"])
async def test_entities_resolve_each_key_type_to_what_the_normal_query_returns(
    graph: GraphClient, firm: Firm, typename: str
) -> None:
    expected = (await _normal(graph, firm))[typename]
    if typename != "Engagement":
        assert GlobalID.from_id(expected["id"]).type_name == typename
    got = await graph.data(
        _entities_query(typename), {"representations": [_reference(typename, expected)]}
    )
    assert got["_entities"] == [{"__typename": typename, **expected}]


async def test_entities_answer_mixed_representations_in_order_with_null_for_unknown(
    graph: GraphClient, firm: Firm
) -> None:
    normal = await _normal(graph, firm)
    unknown = {"__typename": "Engagement", "key": "ENG-1999-99999"}
    representations = [_reference(t, normal[t]) for t in reversed(list(normal))]
    representations.insert(2, unknown)
    got = await graph.data(
        ENTITIES % "... on Engagement { key } ... on Customer { key } "
        "... on Project { psaId } ... on Invoice { tranId }",
        {"representations": representations},
    )
    assert got["_entities"] == [
        {"__typename": "Invoice", "tranId": normal["Invoice"]["tranId"]},
        {"__typename": "Project", "psaId": normal["Project"]["psaId"]},
        None,
        {"__typename": "Customer", "key": normal["Customer"]["key"]},
        {"__typename": "Engagement", "key": normal["Engagement"]["key"]},
    ]


async def test_entities_load_many_customers_with_one_erp_query(
    graph: GraphClient, firm: Firm
) -> None:
    query = ENTITIES % "... on Customer { key name }"
    warm_up = {"__typename": "Customer", "id": str(GlobalID("Customer", firm.customers[-1].key))}
    await graph.data(query, {"representations": [warm_up]})  # the ERP's OAuth token, once
    for n in (1, 5):
        customers = firm.customers[:n]
        representations = [
            {"__typename": "Customer", "id": str(GlobalID("Customer", c.key))} for c in customers
        ]
        await graph.reset_calls()
        got = await graph.data(query, {"representations": representations})
        assert got["_entities"] == [
            {"__typename": "Customer", "key": c.key, "name": c.name} for c in customers
        ]
        assert await graph.calls() == {"salesforce": 0, "kantata": 0, "harvest": 0, "netsuite": 1}


@pytest.mark.parametrize(
    ("typename", "field", "value"),
    [
        ("Engagement", "key", "ENG-1999-99999"),
        ("Customer", "id", str(GlobalID("Customer", "CUST-9999"))),
        ("Project", "id", str(GlobalID("Project", "999999999"))),
        ("Invoice", "id", str(GlobalID("Invoice", "999999999"))),
    ],
)
async def test_an_unknown_entity_resolves_to_null_without_error(
    graph: GraphClient, typename: str, field: str, value: str
) -> None:
    body = await graph.query(
        ENTITIES % f"... on {typename} {{ id }}",
        {"representations": [{"__typename": typename, field: value}]},
    )
    assert body == {"data": {"_entities": [None]}}


@pytest.mark.parametrize(
    ("representation", "message"),
    [
        ({"__typename": "Engagement", "key": "ENG-X"}, "not an engagement key"),
        ({"__typename": "Customer", "id": str(GlobalID("Project", "1"))}, "is a Project id"),
        ({"__typename": "Project", "id": str(GlobalID("Invoice", "1"))}, "is an Invoice id"),
        ({"__typename": "Invoice", "id": str(GlobalID("Customer", "1"))}, "is a Customer id"),
        ({"__typename": "Project", "id": "not a global id"}, "not a global id"),
        ({"__typename": "Invoice", "id": 42}, "not an Invoice id"),
        ({"__typename": "Customer"}, "not a Customer id"),
    ],
)
async def test_a_malformed_or_wrong_type_reference_is_bad_user_input(
    graph: GraphClient, representation: dict[str, Any], message: str
) -> None:
    body = await graph.query(ENTITIES % "__typename", {"representations": [representation]})
    assert body["data"] == {"_entities": [None]}
    [error] = body["errors"]
    assert error["path"] == ["_entities", 0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]


# Composition: tests/federation/compose.mjs runs @apollo/composition's composeServices.


@pytest.fixture
async def subgraph_sdl(graph: GraphClient) -> str:
    """Our subgraph SDL exactly as a router reads it: `_service { sdl }` over HTTP."""
    sdl: str = (await graph.data(SDL))["_service"]["sdl"]
    return sdl


@pytest.fixture
def node() -> str:
    """The node binary, with @apollo/composition installed; fail (never skip) without."""
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is not on PATH: the federation composition test needs Node.js")
    if not (COMPOSITION_PACKAGE / "package.json").is_file():
        pytest.fail(
            "@apollo/composition is missing from gateway/web/node_modules: run `make install` "
            "(npm ci --prefix gateway/web)"
        )
    return found


def _compose(node: str, tmp_path: Path, **subgraphs: str) -> subprocess.CompletedProcess[str]:
    args = []
    for name, sdl in subgraphs.items():
        path = tmp_path / f"{name}.graphql"
        path.write_text(sdl, encoding="utf-8")
        args.append(f"{name}={path}")
    return subprocess.run(
        [node, str(COMPOSE), *args], capture_output=True, text=True, timeout=30, check=False
    )


def test_the_subgraph_composes_with_a_second_subgraph_extending_engagement(
    node: str, subgraph_sdl: str, tmp_path: Path
) -> None:
    reviews = REVIEWS.read_text(encoding="utf-8")
    result = _compose(node, tmp_path, engagements=subgraph_sdl, reviews=reviews)
    assert result.returncode == 0, result.stderr
    supergraph = result.stdout
    assert 'ENGAGEMENTS @join__graph(name: "engagements"' in supergraph
    assert 'REVIEWS @join__graph(name: "reviews"' in supergraph
    assert '@join__type(graph: ENGAGEMENTS, key: "key")' in supergraph
    assert '@join__type(graph: REVIEWS, key: "key")' in supergraph
    assert "healthScore: Int @join__field(graph: REVIEWS)" in supergraph
    assert "atRiskEngagements(maxScore: Int! = 50): [Engagement!]!" in supergraph
    assert "financials: Financials @join__field(graph: ENGAGEMENTS)" in supergraph
    assert "engagement(key: String!): Engagement @join__field(graph: ENGAGEMENTS)" in supergraph


def test_composition_fails_when_the_second_subgraph_contradicts_the_engagement_key(
    node: str, subgraph_sdl: str, tmp_path: Path
) -> None:
    reviews = REVIEWS.read_text(encoding="utf-8")
    broken = reviews.replace("key: String!", "key: Int!")
    assert broken != reviews
    result = _compose(node, tmp_path, engagements=subgraph_sdl, reviews=broken)
    assert result.returncode == 1, result.stdout
    assert "[FIELD_TYPE_MISMATCH]" in result.stderr
    assert '"Engagement.key"' in result.stderr
    assert result.stdout == ""
