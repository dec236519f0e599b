"""Every event the transitions publish is a CloudEvent valid against its schema file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from domain.governance import Role
from sandboxes.firm import Firm
from tests.contract.test_billing_transitions import GENERATE, PAY, POST, _tm_engagement
from tests.contract.test_win_and_activation import CLOSE, _first
from tests.governance_support import as_role, governed_client, mutate, store, wait_for_operation
from tests.graph_support import AS_OF, GraphClient

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"


@pytest.fixture
async def client(firm: Firm) -> AsyncIterator[GraphClient]:
    async with governed_client(firm, "embedded") as gateway:
        yield gateway


async def _raw_records(client: GraphClient) -> list[dict[str, Any]]:
    journal = store(client)
    entries: list[Any] = list(await journal._redis.xrange(journal.keys.events) or [])
    return [json.loads(fields["record"]) for _, fields in entries]


async def test_published_events_validate_against_their_schemas(
    client: GraphClient, firm: Firm
) -> None:
    sales, finance = as_role(client, Role.SALES), as_role(client, Role.FINANCE)
    failing, _ = await _first(client, ready=False)
    await mutate(client, CLOSE, {"id": failing}, headers=sales)
    ready, key = await _first(client, ready=True)
    await mutate(client, CLOSE, {"id": ready}, headers=sales)
    await wait_for_operation(client, f"activation:{key}")
    tm = _tm_engagement(firm)
    made = await mutate(client, GENERATE, {"eng": tm, "end": AS_OF.isoformat()}, headers=finance)
    draft = made["data"]["generateInvoice"]["draftId"]
    posted = await mutate(client, POST, {"draft": draft}, headers=finance)
    invoice = posted["data"]["postInvoice"]
    await mutate(
        client,
        PAY,
        {"inv": invoice["invoiceId"], "amount": "1.00", "cur": invoice["total"]["currency"]},
        headers=finance,
    )
    records = await _raw_records(client)
    types = {r["type"] for r in records}
    assert {
        "opportunity.rejected", "exception.raised", "opportunity.won", "project.activated",
        "invoice.generated", "invoice.posted", "payment.received",
    } <= types  # fmt: skip
    for record in records:
        schema = json.loads((SCHEMAS / f"{record['type']}.v1.json").read_text())
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(record)]
        assert errors == [], (record["type"], errors)
        assert record["source"] == "/engagement-gateway" and record["specversion"] == "1.0"
