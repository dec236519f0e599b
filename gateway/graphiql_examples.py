"""Example operations GraphiQL opens with, one tab each: name → operation text.

The first tab is the one shown on load. Each is a valid operation against the
schema (a test runs them); variables carry defaults so a tab runs as is. A
subscription tab streams over GraphQL-over-SSE and needs a bearer token.
`FINANCE_DASHBOARD` is also what the benchmarks and the call-count tests run.
"""

from __future__ import annotations

__all__ = ["EXAMPLES", "FINANCE_DASHBOARD", "LIVE_EVENTS"]

FINANCE_DASHBOARD = """\
# Finance view: the money position of the 100 largest engagements,
# with recent time, invoices and payments. One call per system and
# kind of record per level, whatever the number of rows.
query FinanceView($first: Int! = 100, $since: Date! = "2026-10-01") {
  engagements(first: $first, orderBy: BOOKED_VALUE_DESC) {
    totalCount
    edges { node {
      key name status billingModel
      customer { key name }
      project { name status }
      financials {
        bookedValue { amount currency } approvedBillableValue { amount }
        billedToDate { amount } unbilledWip { amount } collected { amount } outstanding { amount }
      }
      timeEntries(first: 10, filter: {from: $since}) {
        edges { node { spentDate hours approval billableValue { amount } } }
      }
      invoices(first: 20) {
        totalCount nodes { tranId status total { amount } amountRemaining { amount } }
      }
      payments { tranDate amount { amount } }
    } }
  }
}
"""

LIVE_EVENTS = """\
# Live events: time approvals and posted invoices as they happen, streamed
# over SSE. Put the demo token in the Headers tab, run this, then approve
# time or post an invoice (another tab); the stop button ends it.
subscription LiveEvents($types: [String!] = ["time.approved", "invoice.posted"]) {
  engagementEvents(filter: {types: $types}) {
    cursor type subject time actor data
  }
}
"""

EXAMPLES: dict[str, str] = {
    "Sales view": """\
# Sales view: the open pipeline of one legal entity, from the CRM,
# with each customer's master-data status from the ERP.
query SalesView($entity: String = "US") {
  engagements(first: 25, filter: {legalEntity: $entity, status: QUALIFYING},
              orderBy: BOOKED_VALUE_DESC) {
    totalCount
    nodes {
      key name billingModel serviceLine closeDate
      bookedValue { amount currency }
      opportunity { stage isWon }
      customer { key name status taxJurisdiction }
    }
  }
}
""",
    "PMO view": """\
# PMO view: running engagements with their project, staffing,
# milestones and the last week of time.
query PmoView($since: Date = "2026-10-24") {
  engagements(first: 20, filter: {status: ACTIVE}) {
    totalCount
    nodes {
      key name billingModel
      project { name status startDate endDate budget { amount currency } }
      assignments { role allocationPercent person { name email } }
      milestones { title dueDate state amount { amount currency } }
      timeEntries(first: 5, filter: {from: $since}) {
        totalCount
        nodes { spentDate hours approval personName }
      }
    }
  }
}
""",
    "Finance view": FINANCE_DASHBOARD,
    "Systems": """\
# Is every system behind the gateway answering?
query Systems {
  systems { name ok latencyMs breaker detail }
}
""",
    "Live events": LIVE_EVENTS,
}
