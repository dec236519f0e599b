"""``POST /webhooks/{system}``: signature, replay window, delivery dedupe, answers.

The endpoint runs with a recording `ChangeSink` in place of the inbound sync
(the end-to-end path through the real one is in tests/e2e/test_webhook_sync.py),
on both stores (the embedded fakeredis and the real Redis under a prefix of its
own), in process and, where the transport matters, over real HTTP. Signatures
are computed here with hmac, never by the code under test.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from starlette.applications import Starlette

from adapters.redis_store import connect_redis
from adapters.store.keys import StoreKeys
from domain.errors import InvalidInput
from gateway.webhooks import MAX_BODY_BYTES, WebhookEndpoint
from tests.redis_support import real_redis_or_skip
from tests.serving import serve
from tests.webhook_support import signed

SECRET = "contract-webhook-secret"
NOW = 1_790_000_000
OPP = "006000000000001AAA"
HEADER = {
    "entityName": "Opportunity",
    "recordIds": [OPP],
    "changeType": "UPDATE",
    "changedFields": ["StageName"],
    "commitTimestamp": NOW * 1000,
    "transactionKey": "t-1",
}
CDC = {"schema": "abc", "payload": {"ChangeEventHeader": HEADER, "StageName": "Closed Won"}}
ACCOUNT_CDC = {"payload": {"ChangeEventHeader": {**HEADER, "entityName": "Account"}}}
PAYMENT = {"eventType": "create", "recordType": "customerpayment", "recordId": "90123",
           "lastModifiedDate": "2026-11-02T09:00:00Z"}  # fmt: skip


class RecordingSink:
    """Stands in for the inbound sync: records each call; fails the first `failures`."""

    def __init__(self, failures: int = 0, synced: frozenset[str] | None = None) -> None:
        self.calls: list[tuple[str, str, list[str]]] = []
        self.failures = failures
        self.synced = synced  # the record types it syncs (None: all)

    async def sync_records(self, system: str, record_type: str, ids: Sequence[str]) -> int:
        if self.synced is not None and record_type not in self.synced:
            raise InvalidInput(f"{system} {record_type!r} records are not synced")
        if self.failures:
            self.failures -= 1
            raise RuntimeError("vendor unavailable")
        self.calls.append((system, record_type, list(ids)))
        return len(ids)


class Gateway:
    def __init__(self, http: httpx.AsyncClient, sink: RecordingSink, endpoint: WebhookEndpoint):
        self.http, self.sink, self.endpoint = http, sink, endpoint

    async def post(
        self,
        system: str,
        payload: Any,
        *,
        secrets: Sequence[str] = (SECRET,),
        timestamp: int = NOW,
        delivery: str = "d-1",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {**signed(body, secrets, timestamp=timestamp, delivery=delivery), **(headers or {})}
        return await self.http.post(f"/webhooks/{system}", content=body, headers=sent)


@pytest.fixture(params=["embedded", "real"])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Redis, str]]:
    if request.param == "embedded":
        client = connect_redis(None, max_connections=10)
        yield client, "eg-test:"
        await client.aclose()
        return
    async for found in real_redis_or_skip():
        yield found


@pytest.fixture
async def gateway(redis: tuple[Redis, str]) -> AsyncIterator[Gateway]:
    async with webhook_gateway(redis, RecordingSink(), SecretStr(SECRET)) as found:
        yield found


@asynccontextmanager
async def webhook_gateway(
    redis: tuple[Redis, str],
    sink: RecordingSink | None,
    secret: SecretStr | None,
    *,
    real_http: bool = False,
) -> AsyncIterator[Gateway]:
    """The endpoint alone, with `sink` standing in for the inbound sync.

    In process by default; `real_http` serves it on a port of its own (uvicorn),
    where the transport matters (streamed bodies, Content-Length).
    """
    client, prefix = redis
    endpoint = WebhookEndpoint(
        secret=secret,
        tolerance_s=300,
        redis=client,
        keys=StoreKeys(prefix),
        sink=sink,
        clock=lambda: NOW,
    )
    app = Starlette(routes=endpoint.routes())
    if not real_http:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            yield Gateway(http, sink or RecordingSink(), endpoint)
        return
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield Gateway(http, sink or RecordingSink(), endpoint)


async def test_a_signed_cdc_event_is_accepted_and_its_records_synced(
    redis: tuple[Redis, str],
) -> None:
    async with webhook_gateway(redis, RecordingSink(), SecretStr(SECRET), real_http=True) as gw:
        response = await gw.post("salesforce", CDC)
        assert response.status_code == 202, response.text
        assert response.json() == {
            "status": "accepted",
            "delivery": "d-1",
            "records": 1,
            "synced": 1,
        }
        assert gw.sink.calls == [("salesforce", "Opportunity", [OPP])]


async def test_a_signed_netsuite_notice_is_accepted_and_synced(gateway: Gateway) -> None:
    batch = [PAYMENT, {**PAYMENT, "recordType": "invoice", "recordId": 98765, "eventType": "edit"}]
    response = await gateway.post("netsuite", batch)
    assert response.status_code == 202, response.text
    assert gateway.sink.calls == [
        ("netsuite", "customerPayment", ["90123"]),
        ("netsuite", "invoice", ["98765"]),
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"secrets": ["someone-elses-secret"]}, "SIGNATURE_INVALID"),
        ({"headers": {"X-EG-Signature": ""}}, "SIGNATURE_MISSING"),
        ({"headers": {"X-EG-Signature": "v1=" + "0" * 64}}, "SIGNATURE_MALFORMED"),
        ({"headers": {"X-EG-Signature": f"t={NOW}"}}, "SIGNATURE_MALFORMED"),
        ({"headers": {"X-EG-Signature": f"t=soon,v1={'0' * 64}"}}, "SIGNATURE_MALFORMED"),
        ({"headers": {"X-EG-Signature": f"t={NOW};v1={'0' * 64}"}}, "SIGNATURE_MALFORMED"),
        # a superscript digit (latin-1 on the wire) passes str.isdigit() but is no integer
        ({"headers": {"X-EG-Signature": b"t=\xb2,v1=" + b"0" * 64}}, "SIGNATURE_MALFORMED"),
        ({"timestamp": NOW - 301}, "SIGNATURE_STALE"),
        ({"timestamp": NOW + 301}, "SIGNATURE_STALE"),
    ],
)
async def test_a_bad_signature_is_refused_with_401_and_nothing_is_processed(
    gateway: Gateway, change: dict[str, Any], code: str
) -> None:
    response = await gateway.post("salesforce", CDC, **change)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == code and response.json()["message"]
    assert gateway.sink.calls == []
    # the delivery id was not taken: the genuine delivery is still processed
    assert (await gateway.post("salesforce", CDC)).status_code == 202
    assert len(gateway.sink.calls) == 1


async def test_a_signature_over_another_body_is_refused(gateway: Gateway) -> None:
    body = json.dumps(CDC).encode()
    headers = signed(body, [SECRET], timestamp=NOW)
    tampered = body.replace(OPP.encode(), b"006000000000002AAA")
    response = await gateway.http.post("/webhooks/salesforce", content=tampered, headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "SIGNATURE_INVALID"
    assert gateway.sink.calls == []


async def test_the_edges_of_the_tolerance_window_are_accepted(gateway: Gateway) -> None:
    assert (await gateway.post("netsuite", PAYMENT, timestamp=NOW - 300)).status_code == 202
    assert (await gateway.post("netsuite", PAYMENT, timestamp=NOW + 300, delivery="d-2")).is_success


async def test_a_replayed_delivery_is_acknowledged_once_and_processed_once(
    gateway: Gateway,
) -> None:
    first = await gateway.post("salesforce", CDC, delivery="evt-42")
    again = await gateway.post("salesforce", CDC, delivery="evt-42", timestamp=NOW - 10)
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "delivery": "evt-42"}
    assert gateway.sink.calls == [("salesforce", "Opportunity", [OPP])]
    other = await gateway.post("netsuite", PAYMENT, delivery="evt-42")  # ids are per system
    assert other.status_code == 202


async def test_during_rotation_either_secret_verifies(redis: tuple[Redis, str]) -> None:
    both = ["old-secret-0123456789", "new-secret-0123456789"]
    for gateway_secret in both:
        async with webhook_gateway(redis, RecordingSink(), SecretStr(gateway_secret)) as gw:
            response = await gw.post("salesforce", CDC, secrets=both, delivery=gateway_secret)
            assert response.status_code == 202, response.text
            refused = await gw.post("salesforce", CDC, secrets=["third-secret"], delivery="x")
            assert refused.status_code == 401


@pytest.mark.parametrize(
    ("system", "payload", "status", "code"),
    [
        ("harvest", CDC, 404, "UNKNOWN_SYSTEM"),
        ("salesforce", ACCOUNT_CDC, 400, "UNKNOWN_RECORD_TYPE"),
        ("netsuite", {**PAYMENT, "recordType": "vendorbill"}, 400, "UNKNOWN_RECORD_TYPE"),
        ("netsuite", {**PAYMENT, "recordId": "12; DROP"}, 400, "MALFORMED_BODY"),
        ("netsuite", {**PAYMENT, "recordId": "12\n"}, 400, "MALFORMED_BODY"),
        (
            "salesforce",
            {"payload": {"ChangeEventHeader": {**HEADER, "recordIds": [OPP + "\n"]}}},
            400,
            "MALFORMED_BODY",
        ),
        ("salesforce", {"payload": {}}, 400, "MALFORMED_BODY"),
        ("salesforce", [], 400, "MALFORMED_BODY"),
        ("salesforce", b"{not json", 400, "MALFORMED_BODY"),
        ("netsuite", b"\xff\xfe", 400, "MALFORMED_BODY"),
    ],
)
async def test_unknown_systems_and_bad_notices_are_refused(
    gateway: Gateway, system: str, payload: Any, status: int, code: str
) -> None:
    response = await gateway.post(system, payload)
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert gateway.sink.calls == []


async def test_a_missing_delivery_id_is_refused_after_the_signature(gateway: Gateway) -> None:
    response = await gateway.post("netsuite", PAYMENT, headers={"X-EG-Delivery": ""})
    assert (response.status_code, response.json()["error"]) == (400, "DELIVERY_ID_INVALID")
    forged = await gateway.post("netsuite", PAYMENT, secrets=["x"], headers={"X-EG-Delivery": ""})
    assert forged.status_code == 401


async def test_an_oversized_body_is_refused_with_413(redis: tuple[Redis, str]) -> None:
    async with webhook_gateway(redis, RecordingSink(), SecretStr(SECRET), real_http=True) as gw:
        response = await gw.post("salesforce", b"x" * (MAX_BODY_BYTES + 1))
        assert response.status_code == 413 and response.json()["error"] == "PAYLOAD_TOO_LARGE"

        async def chunks() -> AsyncIterator[bytes]:  # chunked, no Content-Length: counted
            for _ in range(MAX_BODY_BYTES // 1024 + 1):
                yield b"x" * 1024

        streamed = await gw.http.post("/webhooks/salesforce", content=chunks())
        assert streamed.status_code == 413
        assert gw.sink.calls == []


async def test_without_a_secret_webhooks_are_refused_with_503(redis: tuple[Redis, str]) -> None:
    async with webhook_gateway(redis, RecordingSink(), None) as gw:
        response = await gw.post("salesforce", CDC)
        assert (response.status_code, response.json()["error"]) == (503, "WEBHOOKS_DISABLED")
        assert gw.sink.calls == []


async def test_a_failed_sync_answers_503_and_the_retry_is_processed(
    redis: tuple[Redis, str],
) -> None:
    sink = RecordingSink(failures=1)
    async with webhook_gateway(redis, sink, SecretStr(SECRET)) as gw:
        failed = await gw.post("salesforce", CDC, delivery="evt-7")
        assert (failed.status_code, failed.json()["error"]) == (503, "SYNC_FAILED")
        assert failed.headers["Retry-After"] == "5"
        retried = await gw.post("salesforce", CDC, delivery="evt-7", timestamp=NOW + 5)
        assert retried.status_code == 202, retried.text
        assert sink.calls == [("salesforce", "Opportunity", [OPP])]


async def test_a_record_type_the_sync_refuses_is_a_400_and_leaves_the_delivery_free(
    redis: tuple[Redis, str],
) -> None:
    sink = RecordingSink(synced=frozenset({"Opportunity"}))
    async with webhook_gateway(redis, sink, SecretStr(SECRET)) as gw:
        refused = await gw.post("netsuite", PAYMENT, delivery="evt-9")
        assert (refused.status_code, refused.json()["error"]) == (400, "UNKNOWN_RECORD_TYPE")
        assert "not synced" in refused.json()["message"]
        sink.synced = None  # the same delivery, once the type is synced, is processed
        assert (await gw.post("netsuite", PAYMENT, delivery="evt-9")).status_code == 202


async def test_without_a_running_sync_the_notice_is_refused_for_a_retry(
    redis: tuple[Redis, str],
) -> None:
    async with webhook_gateway(redis, None, SecretStr(SECRET)) as gw:
        response = await gw.post("netsuite", PAYMENT)
        assert (response.status_code, response.json()["error"]) == (503, "SYNC_UNAVAILABLE")
