"""Example operations GraphiQL opens with, one tab each: name → operation text.

The first tab is the one shown on load. Replace the bodies with richer
operations as the schema grows; the page and its test only need each entry to
be a valid operation against the current schema.
"""

from __future__ import annotations

__all__ = ["EXAMPLES"]

EXAMPLES: dict[str, str] = {
    "Sales view": """\
# Sales view: can the pipeline be trusted right now?
# Opportunities live in the CRM (Salesforce); every won
# deal must map to a customer in the ERP (NetSuite).
query SalesView {
  systems {
    name
    ok
    latencyMs
    breaker
    detail
  }
}
""",
    "PMO view": """\
# PMO view: projects and staffing come from the PSA
# (Kantata), hours from Harvest. Are both answering?
query PmoView {
  systems {
    name
    ok
    breaker
    detail
  }
}
""",
    "Finance view": """\
# Finance view: invoices and payments live in the ERP
# (NetSuite), billable time and expenses in Harvest.
query FinanceView {
  systems {
    name
    ok
    latencyMs
    detail
  }
}
""",
}
