"""Changes made directly in the vendors (their own APIs, never the gateway), and what the
inbound sync made of them, for the tests of the inbound change sync."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from domain.events import Event
from domain.ids import EngagementKey
from sandboxes.firm import Firm
from sandboxes.jsonwire import dumps
from tests.governance_support import governed_client, store
from tests.graph_support import GraphClient
from workflows.inbound import InboundSync

__all__ = [
    "Vendors",
    "assert_schema_valid",
    "client_fixture",
    "embedded_fixture",
    "events",
    "inbound",
    "open_invoice",
    "submitted_entry",
    "wait_for_event",
]

DEMO_CLIENT = {"grant_type": "client_credentials", "client_id": "eg-demo-client"}
HARVEST = {
    "Authorization": "Bearer harvest-demo-token",
    "Harvest-Account-Id": "1234567",
    "User-Agent": "inbound sync tests (ops@example.com)",
}
SALESFORCE_API = "/services/data/v60.0"
NETSUITE_RECORD = "/services/rest/record/v1"
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "events"


@pytest.fixture(params=["embedded", "real"], name="client")
async def client_fixture(firm: Firm, request: pytest.FixtureRequest) -> AsyncIterator[GraphClient]:
    """A governed gateway on the demo firm, on the embedded store and on real Redis."""
    async with governed_client(firm, request.param) as gateway:
        yield gateway


@pytest.fixture(name="embedded")
async def embedded_fixture(firm: Firm) -> AsyncIterator[GraphClient]:
    """A governed gateway on the demo firm, on the embedded store only."""
    async with governed_client(firm, "embedded") as gateway:
        yield gateway


def inbound(client: GraphClient) -> InboundSync:
    found: InboundSync = client.app.state.inbound
    return found


async def events(client: GraphClient, type_: str | None = None) -> list[Event]:
    return [e for _, e in await store(client).events() if type_ is None or e.type == type_]


async def assert_schema_valid(client: GraphClient) -> None:
    """Every record on the stream validates against its type's schema file."""
    journal = store(client)
    entries: list[Any] = list(await journal._redis.xrange(journal.keys.events) or [])
    for _, fields in entries:
        record = json.loads(fields["record"])
        schema = json.loads((SCHEMAS / f"{record['type']}.v1.json").read_text())
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(record)]
        assert errors == [], (record["type"], errors)


async def wait_for_event(
    client: GraphClient, type_: str, count: int = 1, timeout_s: float = 10.0
) -> list[Event]:
    """The events of `type_` once there are `count` of them (polling the stream)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        found = await events(client, type_)
        if len(found) >= count:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{len(found)} {type_} events after {timeout_s}s")
        await asyncio.sleep(0.02)


class Vendors:
    """A user working in each vendor's own system, over its REST API."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client

    @asynccontextmanager
    async def _http(self, name: str, base: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=self.client.sandboxes.apps[name])
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            yield http

    async def approve_in_harvest(self, entry_id: str) -> None:
        async with self._http("harvest", "http://harvest") as http:
            answer = await http.patch(
                f"/v2/time_entries/{entry_id}", json={"is_closed": True}, headers=HARVEST
            )
            assert answer.status_code == 200, answer.text

    async def set_story_state(self, story_id: str, state: str) -> None:
        async with self._http("kantata", "http://kantata") as http:
            answer = await http.put(
                f"/api/v1/stories/{story_id}.json",
                json={"story": {"state": state}},
                headers={"Authorization": "Bearer kantata-demo-token"},
            )
            assert answer.status_code == 200, answer.text

    async def edit_opportunity(self, opportunity_id: str, **fields: Any) -> None:
        async with self._http("salesforce", "http://salesforce") as http:
            token = await http.post(
                "/services/oauth2/token", data={**DEMO_CLIENT, "client_secret": "eg-demo-secret"}
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            answer = await http.patch(
                f"{SALESFORCE_API}/sobjects/Opportunity/{opportunity_id}",
                content=dumps(fields),
                headers={**headers, "Content-Type": "application/json"},
            )
            assert answer.status_code == 204, answer.text

    async def pay_in_netsuite(self, customer_id: str, invoice_id: str, amount: Decimal) -> str:
        """A customer payment entered in NetSuite, applied to one invoice; its id."""
        async with self._http("netsuite", "http://netsuite") as http:
            token = await http.post(
                "/services/rest/auth/oauth2/v1/token",
                data={**DEMO_CLIENT, "client_secret": "eg-demo-secret"},
            )
            http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            payment = {
                "customer": {"id": customer_id},
                "tranDate": "2026-11-20",
                "payment": amount,
                "undepFunds": True,
                "apply": {"items": [{"doc": {"id": invoice_id}, "apply": True, "amount": amount}]},
            }
            answer = await http.post(
                f"{NETSUITE_RECORD}/customerPayment",
                content=dumps(payment),
                headers={"Content-Type": "application/json"},
            )
            assert answer.status_code == 204, answer.text
            return answer.headers["Location"].rsplit("/", 1)[1]


async def submitted_entry(client: GraphClient, firm: Firm, skip: int = 0) -> tuple[str, str]:
    """(Harvest id, engagement key) of a time entry awaiting approval, not billed."""
    waiting = [t for t in firm.time_entries if not t.approved and t.invoice is None][skip]
    systems = client.app.state.systems
    entries = await systems.time.get_time_entries_by_engagement(
        [EngagementKey(waiting.engagement_key)]
    )
    [entry] = [e for e in entries if e.external_ref == waiting.key]
    return entry.id, waiting.engagement_key


async def open_invoice(client: GraphClient) -> Any:
    """An ERP invoice of an engagement with more than 10.00 still due."""
    erp = client.app.state.systems.erp
    rows = await erp._session.query(
        "SELECT id FROM transaction WHERE type = 'CustInvc' AND status = 'A' "
        "AND foreignamountremaining > 10 AND custbody_eg_engagement_key IS NOT NULL ORDER BY id"
    )
    [invoice] = await erp.get_invoices([rows[0]["id"]])
    return invoice
