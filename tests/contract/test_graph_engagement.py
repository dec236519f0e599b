"""The engagement graph, resolved over the four sandboxes: one engagement, every type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from strawberry.relay import GlobalID

from sandboxes.firm import Engagement, Firm
from tests.graph_support import GraphClient, graph_client

FULL = """
query One($key: String!) {
  engagement(key: $key) {
    id key name status billingModel serviceLine rateCardVersion currency
    bookedValue { amount currency }
    legalEntity { code currency }
    customer { id key name status taxJurisdiction legalEntity { code } }
    opportunity { id crmId stage isWon amount { amount currency } engagementKey }
    project { id psaId name status budget { amount currency } }
    rateCard { version currency rates { role rate { amount currency } } }
    assignments { role allocationPercent person { name email } }
    milestones { title state amount { amount } }
    timeEntries(first: 5) { totalCount edges { cursor node { spentDate hours approval billed
      billableValue { amount currency } } } pageInfo { hasNextPage endCursor } }
    expenses(first: 5) { totalCount }
    invoices(first: 100) { totalCount nodes { id tranId externalId total { amount currency }
      amountRemaining { amount } status } }
    payments { amount { amount currency } }
    billingSchedule { kind lines { date amount { amount } } }
    financials { currency bookedValue { amount } approvedBillableValue { amount }
      billedToDate { amount } unbilledWip { amount } collected { amount } outstanding { amount } }
  }
}
"""


@pytest.fixture
async def graph(firm: Firm) -> AsyncIterator[GraphClient]:
    async with graph_client(firm) as client:
        yield client


def _tm_engagement(firm: Firm) -> Engagement:
    """A running T&M engagement with invoices, payments and a schedule."""
    planted = {d.engagement_key for d in firm.discrepancies}
    scheduled = {s.engagement_key for s in firm.billing_schedules}
    paid = {firm_inv.engagement_key for firm_inv in firm.invoices if firm_inv.status == "paid"}
    return next(
        e
        for e in firm.engagements
        if e.billing_model == "TIME_AND_MATERIALS"
        and e.status == "ACTIVE"
        and e.key not in planted
        and e.key in scheduled
        and e.key in paid
    )


async def test_one_engagement_joins_all_four_systems(graph: GraphClient, firm: Firm) -> None:
    e = _tm_engagement(firm)
    got = (await graph.data(FULL, {"key": e.key}))["engagement"]
    opp = next(o for o in firm.opportunities if o.engagement_key == e.key)
    customer = next(c for c in firm.customers if c.key == e.customer)
    assert got["key"] == e.key and got["name"] == opp.name
    assert got["status"] == "ACTIVE"
    assert got["billingModel"] == "TIME_AND_MATERIALS"
    assert (got["serviceLine"], got["rateCardVersion"]) == (e.service_line, e.rate_card_version)
    assert got["bookedValue"] == {"amount": str(opp.amount), "currency": e.currency}
    assert got["legalEntity"] == {"code": e.legal_entity, "currency": e.currency}
    assert got["customer"]["key"] == customer.key and got["customer"]["name"] == customer.name
    assert got["customer"]["status"] == customer.status
    assert got["customer"]["legalEntity"] == {"code": customer.legal_entity}
    assert got["opportunity"]["isWon"] is True and got["opportunity"]["engagementKey"] == e.key
    assert got["project"]["name"]
    assert got["rateCard"]["version"] == e.rate_card_version
    assert got["rateCard"]["currency"] == e.currency and got["rateCard"]["rates"]
    assigned = [a for a in firm.assignments if a.engagement_key == e.key]
    assert len(got["assignments"]) == len(assigned)
    people = {p.key: p for p in firm.people}
    assert {a["person"]["email"] for a in got["assignments"]} == {
        people[a.person].email for a in assigned
    }
    entries = [t for t in firm.time_entries if t.engagement_key == e.key]
    assert got["timeEntries"]["totalCount"] == len(entries)
    newest = [n["node"]["spentDate"] for n in got["timeEntries"]["edges"]]
    assert newest == sorted(newest, reverse=True)
    assert newest[0] == max(t.spent_date for t in entries).isoformat()
    expenses = [x for x in firm.expenses if x.engagement_key == e.key]
    assert got["expenses"]["totalCount"] == len(expenses)
    invoices = [i for i in firm.invoices if i.engagement_key == e.key]
    assert got["invoices"]["totalCount"] == len(invoices)
    assert {i["externalId"] for i in got["invoices"]["nodes"]} == {i.key for i in invoices}
    payments = [p for p in firm.payments if p.invoice in {i.key for i in invoices}]
    assert len(got["payments"]) == len(payments)
    assert got["billingSchedule"]["kind"] == "PERIODIC"

    f = got["financials"]
    billed = sum((i.total for i in invoices), Decimal(0))
    collected = sum((p.amount for p in payments), Decimal(0))
    open_amount = sum((i.amount_remaining for i in invoices), Decimal(0))
    assert f["currency"] == e.currency
    assert Decimal(f["billedToDate"]["amount"]) == billed
    assert Decimal(f["collected"]["amount"]) == collected
    assert Decimal(f["outstanding"]["amount"]) == open_amount
    unbilled = sum(
        (t.hours * t.bill_rate for t in entries if t.billable and t.approved and not t.invoice),
        Decimal(0),
    ) + sum((x.amount for x in expenses if x.billable and x.approved and not x.invoice), Decimal(0))
    assert Decimal(f["unbilledWip"]["amount"]) == unbilled
    assert Decimal(f["approvedBillableValue"]["amount"]) == billed + unbilled


async def test_milestone_engagement_financials_count_accepted_unbilled_milestones(
    graph: GraphClient, firm: Firm
) -> None:
    e = next(x for x in firm.engagements if x.billing_model == "MILESTONE" and x.status == "ACTIVE")
    got = (await graph.data(FULL, {"key": e.key}))["engagement"]
    milestones = [m for m in firm.milestones if m.engagement_key == e.key]
    assert len(got["milestones"]) == len(milestones)
    billed = sum((i.total for i in firm.invoices if i.engagement_key == e.key), Decimal(0))
    accepted = sum((m.amount for m in milestones if m.accepted), Decimal(0))
    f = got["financials"]
    assert Decimal(f["billedToDate"]["amount"]) == billed
    assert Decimal(f["unbilledWip"]["amount"]) == max(accepted - billed, Decimal(0))


async def test_a_won_deal_never_activated_is_won_with_no_project(
    graph: GraphClient, firm: Firm
) -> None:
    e = next(x for x in firm.engagements if "kantata" not in x.present_in)
    got = (await graph.data(FULL, {"key": e.key}))["engagement"]
    assert got["status"] == "WON"
    assert got["project"] is None
    assert got["invoices"]["totalCount"] == 0
    assert got["timeEntries"]["totalCount"] == 0


async def test_an_open_opportunity_is_a_qualifying_engagement(
    graph: GraphClient, firm: Firm
) -> None:
    opp = next(o for o in firm.opportunities if not o.stage.startswith("Closed"))
    got = (await graph.data(FULL, {"key": opp.engagement_key}))["engagement"]
    assert got["status"] == "QUALIFYING"
    assert got["project"] is None


async def test_unknown_key_is_not_found_and_malformed_key_is_bad_input(graph: GraphClient) -> None:
    unknown = await graph.query('{ engagement(key: "ENG-1999-99999") { key } }')
    assert unknown["data"] == {"engagement": None}
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    bad = await graph.query('{ engagement(key: "robert\'); DROP TABLE") { key } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "ENG-YYYY-NNNNN" in bad["errors"][0]["message"]


NODE = """query N($id: ID!) { node(id: $id) { __typename id
  ... on Engagement { key } ... on Customer { key } ... on Opportunity { crmId }
  ... on Project { psaId } ... on Invoice { externalId } } }"""


async def test_node_resolves_every_node_type_by_global_id(graph: GraphClient, firm: Firm) -> None:
    e = _tm_engagement(firm)
    got = (await graph.data(FULL, {"key": e.key}))["engagement"]
    ids: dict[str, tuple[str, dict[str, Any]]] = {
        "Engagement": (got["id"], {"key": e.key}),
        "Customer": (got["customer"]["id"], {"key": got["customer"]["key"]}),
        "Opportunity": (got["opportunity"]["id"], {"crmId": got["opportunity"]["crmId"]}),
        "Project": (got["project"]["id"], {"psaId": got["project"]["psaId"]}),
        "Invoice": (
            got["invoices"]["nodes"][0]["id"],
            {"externalId": got["invoices"]["nodes"][0]["externalId"]},
        ),
    }
    for type_name, (gid, expected) in ids.items():
        assert GlobalID.from_id(gid).type_name == type_name
        node = (await graph.data(NODE, {"id": gid}))["node"]
        assert node["__typename"] == type_name and node["id"] == gid
        for field, value in expected.items():
            assert node[field] == value


async def test_customer_and_opportunity_take_natural_or_global_ids(
    graph: GraphClient, firm: Firm
) -> None:
    customer = firm.customers[0]
    by_key = await graph.data(
        "query C($id: ID!) { customer(id: $id) { id key name } }", {"id": customer.key}
    )
    assert by_key["customer"]["name"] == customer.name
    by_gid = await graph.data(
        "query C($id: ID!) { customer(id: $id) { key } }", {"id": by_key["customer"]["id"]}
    )
    assert by_gid["customer"]["key"] == customer.key
    wrong_type = await graph.query(
        "query O($id: ID!) { opportunity(id: $id) { crmId } }", {"id": by_key["customer"]["id"]}
    )
    assert wrong_type["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    missing = await graph.query('{ customer(id: "CUST-9999") { key } }')
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
