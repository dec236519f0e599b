"""The sandboxes stamp writes the way the vendors do, so "changed since" polls can rely on it.

A poller takes its first watermark from its own clock (now minus an overlap), then
asks each vendor for what changed after it: the stamps must be real time (Kantata
stamps writes with the time they happen, not a clock of its own) and the filters
must find a record written a moment ago and nothing of the seeded past. Raw HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandboxes.firm import Firm
from sandboxes.jsonwire import dumps
from sandboxes.kantata import KANTATA_TOKEN
from sandboxes.kantata import create_app as kantata_app
from sandboxes.netsuite import NETSUITE_CLIENT_ID, NETSUITE_CLIENT_SECRET
from sandboxes.netsuite import create_app as netsuite_app
from tests.support import decimal_json as body

STORIES = "/api/v1/stories.json"
SUITEQL = "/services/rest/query/v1/suiteql"
RECORD = "/services/rest/record/v1"


@pytest.fixture
async def kantata(firm: Firm) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=kantata_app(firm))
    headers = {"Authorization": f"Bearer {KANTATA_TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://kantata.test", headers=headers
    ) as client:
        yield client


@pytest.fixture
async def netsuite(firm: Firm) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=netsuite_app(firm))
    async with httpx.AsyncClient(transport=transport, base_url="http://netsuite.test") as client:
        token = await client.post(
            "/services/rest/auth/oauth2/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_id": NETSUITE_CLIENT_ID,
                "client_secret": NETSUITE_CLIENT_SECRET,
            },
        )
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_kantata_stamps_writes_with_the_time_they_happen_in_order(
    kantata: httpx.AsyncClient,
) -> None:
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    quiet = body(await kantata.get(STORIES, params={"updated_after": since.isoformat()}))
    assert quiet["count"] == 0  # nothing of the seeded past is newer than a moment ago
    listing = body(await kantata.get(STORIES, params={"story_type": "milestone", "per_page": 3}))
    ids = [r["id"] for r in listing["results"]]
    stamps = []
    for story_id in reversed(ids):  # three writes within the same second, most likely
        answer = await kantata.put(
            f"/api/v1/stories/{story_id}.json", json={"story": {"state": "started"}}
        )
        assert answer.status_code == 200
        stamps.append(_moment(body(answer)["stories"][story_id]["updated_at"]))
    assert stamps == sorted(set(stamps))  # strictly increasing, one second apart at least
    assert since < stamps[0] <= datetime.now(UTC) + timedelta(seconds=len(ids))
    changed = body(
        await kantata.get(
            STORIES, params={"updated_after": since.isoformat(), "order": "updated_at:asc"}
        )
    )
    assert [r["id"] for r in changed["results"]] == list(reversed(ids))


async def _rows(netsuite: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    answer = await netsuite.post(SUITEQL, json={"q": query}, headers={"Prefer": "transient"})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = body(answer)["items"]
    return items


async def test_netsuite_finds_a_payment_applied_a_moment_ago_by_lastmodifieddate(
    netsuite: httpx.AsyncClient,
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S")
    changed = (
        "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS modified "
        "FROM transaction WHERE type = 'CustPymt' AND lastmodifieddate > "
        f"TO_DATE('{since}', 'YYYY-MM-DD HH24:MI:SS') ORDER BY lastmodifieddate, id"
    )
    assert await _rows(netsuite, changed) == []
    invoices = await _rows(
        netsuite,
        "SELECT id, NVL((SELECT parent FROM job WHERE job.id = transaction.entity), "
        "transaction.entity) AS customer FROM transaction WHERE type = 'CustInvc' "
        "AND status = 'A' AND foreignamountremaining > 10 ORDER BY id",
    )
    invoice = invoices[0]
    payment = {
        "customer": {"id": invoice["customer"]},
        "tranDate": "2026-11-20",
        "payment": Decimal(10),
        "apply": {"items": [{"doc": {"id": invoice["id"]}, "apply": True, "amount": Decimal(10)}]},
    }
    created = await netsuite.post(
        f"{RECORD}/customerPayment",
        content=dumps(payment),
        headers={"Content-Type": "application/json"},
    )
    assert created.status_code == 204, created.text
    payment_id = created.headers["Location"].rsplit("/", 1)[1]
    [row] = await _rows(netsuite, changed)
    assert row["id"] == payment_id
    assert _moment(row["modified"] + "+00:00") > _moment(since.replace(" ", "T") + "+00:00")
