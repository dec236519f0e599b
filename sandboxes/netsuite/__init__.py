"""NetSuite REST Web Services sandbox (record v1, SuiteQL, async jobs, OAuth 2.0).

Speaks NetSuite's wire format over HTTP for the demo firm's ERP: subsidiaries,
currencies, departments, classes, locations, customers (with the planted
duplicates), projects (``job``), billing schedules, invoices and customer
payments. See ``/work/shared/vendor-apis.md`` section 4 for the contract.
"""

from __future__ import annotations

from starlette.applications import Starlette

from sandboxes.control import Faults
from sandboxes.firm import Firm
from sandboxes.netsuite.app import create_netsuite_app
from sandboxes.netsuite.governance import DEFAULT_CONCURRENCY_LIMIT

__all__ = [
    "NETSUITE_ACCOUNT_ID",
    "NETSUITE_CLIENT_ID",
    "NETSUITE_CLIENT_SECRET",
    "create_app",
]

NETSUITE_ACCOUNT_ID = "1234567_SB1"
NETSUITE_CLIENT_ID = "eg-demo-client"
NETSUITE_CLIENT_SECRET = "eg-demo-secret"


def create_app(
    firm: Firm,
    *,
    faults: Faults | None = None,
    seed: int = 0,
    concurrency_limit: int = DEFAULT_CONCURRENCY_LIMIT,
) -> Starlette:
    """The sandbox app for `firm`, with the demo account and client credentials."""
    return create_netsuite_app(
        firm,
        account_id=NETSUITE_ACCOUNT_ID,
        client_id=NETSUITE_CLIENT_ID,
        client_secret=NETSUITE_CLIENT_SECRET,
        faults=faults,
        seed=seed,
        concurrency_limit=concurrency_limit,
    )
