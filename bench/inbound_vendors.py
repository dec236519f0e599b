"""For bench_inbound: a user changing records in each vendor's own API, and a stream watch.

`VendorUser` finds records a user could change (submitted time, open
milestones, open invoices, open deals) and changes them over the sandboxes'
real HTTP APIs, never through the gateway. `StreamWatch` tails the firm's
event stream from this process and keeps each entry with the moment Redis
appended it (the entry id's milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from redis.asyncio import Redis

from domain.events import crm_fact_id
from sandboxes.jsonwire import dumps
from tests.e2e.vendor_side import SALESFORCE_API, VendorSide, sandbox_urls

__all__ = ["SYSTEMS", "Change", "StreamWatch", "VendorUser"]

SYSTEMS = ("harvest", "kantata", "netsuite", "salesforce")
HARVEST = {
    "Authorization": "Bearer harvest-demo-token",
    "Harvest-Account-Id": "1234567",
    "User-Agent": "bench_inbound (ops@example.com)",
}
PAYMENT = Decimal("10.00")
Record = dict[str, Any]  # a CloudEvent as the stream holds it
Wanted = Callable[[Record], bool]


@dataclass(frozen=True, slots=True)
class Change:
    record_id: str  # the time entry, story, invoice or opportunity to change
    customer_id: str = ""  # NetSuite: the invoice's customer


class StreamWatch:
    """Every entry of one stream since it was empty, with the time Redis appended it."""

    def __init__(self, redis: Redis, stream: str) -> None:
        self._redis = redis
        self._stream = stream
        self.entries: list[tuple[float, Record]] = []
        self._arrived = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Tail until `stop()` (checked between reads: a read is never cancelled midway)."""
        last = "0-0"
        while not self._stopping.is_set():
            answer: Any = await self._redis.xread({self._stream: last}, count=500, block=200)
            for _stream, found in answer or []:
                for entry_id, fields in found:
                    last = str(entry_id)
                    appended = int(last.split("-")[0]) / 1000
                    self.entries.append((appended, json.loads(fields["record"])))
                    self._arrived.set()

    def stop(self) -> None:
        self._stopping.set()

    async def wait_for(self, wanted: Wanted, timeout_s: float, what: str) -> float:
        """When the first event `wanted` takes was appended; fails after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._arrived.clear()
            for appended, record in self.entries:
                if wanted(record):
                    return appended
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no event for {what} within {timeout_s:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)


class VendorUser(VendorSide):
    """The demo integration user, over each sandbox's own REST API."""

    def __init__(self, base: int, rng: random.Random) -> None:
        super().__init__(sandbox_urls(base))
        self._rng = rng

    async def plan(self, per_system: int) -> dict[str, list[Change]]:
        """`per_system` records to change in each system, picked at random."""
        listing = await self.http.get(
            f"{self.urls['harvest']}/v2/time_entries",
            params={"approval_status": "submitted", "is_billed": "false", "per_page": "200"},
            headers=HARVEST,
        )
        listing.raise_for_status()
        stories = await self.kantata("stories", {"story_type": "milestone"})
        invoices = await self.suiteql(
            "SELECT id, entity FROM transaction WHERE type = 'CustInvc' AND status = 'A'"
            " AND foreignamountremaining > 10 AND custbody_eg_engagement_key IS NOT NULL"
            " ORDER BY id"
        )
        deals = await self.soql(
            "SELECT Id FROM Opportunity WHERE IsClosed = false AND Engagement_Key__c != null"
            " ORDER BY Id"
        )
        found = {
            "harvest": [Change(str(e["id"])) for e in listing.json()["time_entries"]],
            "kantata": [
                Change(str(s["id"]))
                for s in stories.get("stories", {}).values()
                if s.get("state") not in ("completed", "accepted")
            ],
            "netsuite": [Change(str(i["id"]), str(i["entity"])) for i in invoices],
            "salesforce": [Change(str(d["Id"])) for d in deals],
        }
        for system, changes in found.items():
            if len(changes) < per_system:
                raise RuntimeError(
                    f"{system}: {len(changes)} records to change, {per_system} needed"
                )
            found[system] = self._rng.sample(changes, per_system)
        return found

    async def make(self, change: Change, system: str) -> tuple[float, Wanted]:
        """Make the change; when the vendor answered, and which event announces it."""
        if system == "harvest":
            answer = await self.http.patch(
                f"{self.urls['harvest']}/v2/time_entries/{change.record_id}",
                json={"is_closed": True},
                headers=HARVEST,
            )
            return _done(answer.status_code, 200, answer.text), _time_approved(change.record_id)
        if system == "kantata":
            answer = await self.http.put(
                f"{self.urls['kantata']}/api/v1/stories/{change.record_id}.json",
                json={"story": {"state": "completed"}},
                headers={"Authorization": "Bearer kantata-demo-token"},
            )
            return _done(answer.status_code, 200, answer.text), _completed(change.record_id)
        if system == "netsuite":
            return await self._pay(change)
        headers = await self._salesforce()
        answer = await self.http.patch(
            f"{self.urls['salesforce']}{SALESFORCE_API}/sobjects/Opportunity/{change.record_id}",
            json={"StageName": "Closed Won"},
            headers=headers,
        )
        return _done(answer.status_code, 204, answer.text), _decided(change.record_id)

    async def _pay(self, change: Change) -> tuple[float, Wanted]:
        token = await self._token("netsuite", "/services/rest/auth/oauth2/v1/token")
        payment = {
            "customer": {"id": change.customer_id},
            "tranDate": "2026-11-20",
            "payment": PAYMENT,
            "undepFunds": True,
            "apply": {
                "items": [{"doc": {"id": change.record_id}, "apply": True, "amount": PAYMENT}]
            },
        }
        answer = await self.http.post(
            f"{self.urls['netsuite']}/services/rest/record/v1/customerPayment",
            content=dumps(payment),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        done = _done(answer.status_code, 204, answer.text)
        payment_id = answer.headers["Location"].rsplit("/", 1)[1]
        return (
            done,
            lambda r: r["type"] == "payment.received" and _data(r, "payment_id") == payment_id,
        )

    async def register_webhooks(self, gateway_url: str, secret: str) -> None:
        """Salesforce and NetSuite push their changes to the gateway from now on."""
        for system in ("salesforce", "netsuite"):
            answer = await self.http.post(
                f"{self.urls[system]}/__sandbox/webhooks",
                json={"url": f"{gateway_url}/webhooks/{system}", "secret": secret},
            )
            answer.raise_for_status()

    async def webhook_deliveries(self) -> dict[str, dict[str, int]]:
        """Per pushing system, its webhook deliveries by status (delivered, failed...)."""
        found: dict[str, dict[str, int]] = {}
        for system in ("salesforce", "netsuite"):
            answer = await self.http.get(f"{self.urls[system]}/__sandbox/webhooks")
            answer.raise_for_status()
            body = answer.json()
            statuses = [str(d["status"]) for d in body["deliveries"]]
            found[system] = {status: statuses.count(status) for status in sorted(set(statuses))}
            found[system]["pending"] = int(body["pending"])
        return found


def _done(status: int, expected: int, body: str) -> float:
    if status != expected:
        raise RuntimeError(f"the vendor refused the change: {status} {body[:300]}")
    return time.time()


def _data(record: Record, name: str) -> Any:
    return (record.get("data") or {}).get(name)


def _time_approved(entry_id: str) -> Wanted:
    return lambda r: r["type"] == "time.approved" and entry_id in _data(r, "time_entry_ids")


def _completed(story_id: str) -> Wanted:
    return lambda r: r["type"] == "milestone.completed" and _data(r, "milestone_id") == story_id


def _decided(opportunity_id: str) -> Wanted:
    fact = crm_fact_id(opportunity_id)

    def wanted(record: Record) -> bool:
        decided = record["type"] in ("opportunity.won", "opportunity.rejected")
        return decided and crm_fact_id(str(_data(record, "opportunity_id"))) == fact

    return wanted
