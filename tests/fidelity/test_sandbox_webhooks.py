"""The Salesforce and NetSuite sandboxes push signed webhooks after committed writes.

A real receiver on a real port records what arrives: the ``X-EG-Signature``
format (``t=<unix>,v1=<hex>``, one ``v1`` per secret) checked with hmac
here, the ``X-EG-Delivery`` id, and the body: a Change Data Capture event
(Salesforce) or a User Event notice (NetSuite).
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from sandboxes.firm import Firm
from sandboxes.jsonwire import dumps
from sandboxes.netsuite import NETSUITE_CLIENT_ID, NETSUITE_CLIENT_SECRET
from sandboxes.netsuite import create_app as netsuite_app
from sandboxes.salesforce import SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET
from sandboxes.salesforce import create_app as salesforce_app
from sandboxes.webhooks import WebhookSender
from tests.serving import serve, wait_until
from tests.webhook_support import Received, Receiver, hmac_hex

API = "/services/data/v60.0"
RECORD = "/services/rest/record/v1"
SECRET = "fidelity-webhook-secret"
SIGNATURE = re.compile(r"^t=(\d+)((?:,v1=[0-9a-f]{64})+)$")
SF_ID = re.compile(r"^[A-Za-z0-9]{18}$")


def verify(received: Received, *secrets: str) -> None:
    """The signature header has the documented form and one valid v1 per secret, fresh t."""
    match = SIGNATURE.match(received.headers["x-eg-signature"])
    assert match, received.headers["x-eg-signature"]
    timestamp = int(match.group(1))
    assert abs(time.time() - timestamp) < 60
    macs = match.group(2).split(",v1=")[1:]
    assert macs == [hmac_hex(s, timestamp, received.body) for s in secrets]
    assert re.match(r"^[A-Za-z0-9._:-]{1,128}$", received.headers["x-eg-delivery"])
    assert received.headers["content-type"] == "application/json"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver()
    async with serve(target.app) as url:
        yield target, url


async def _client(app: Starlette, base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)


@pytest.fixture
async def sf(firm: Firm) -> AsyncIterator[httpx.AsyncClient]:
    app = salesforce_app(firm)
    async with await _client(app, "http://sf.test") as client:
        form = {"grant_type": "client_credentials", "client_id": SALESFORCE_CLIENT_ID,
                "client_secret": SALESFORCE_CLIENT_SECRET}  # fmt: skip
        token = (await client.post("/services/oauth2/token", data=form)).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
    await sender(app).aclose()


@pytest.fixture
async def ns(firm: Firm) -> AsyncIterator[httpx.AsyncClient]:
    app = netsuite_app(firm)
    async with await _client(app, "https://1234567-sb1.suitetalk.api.netsuite.com") as client:
        form = {"grant_type": "client_credentials", "client_id": NETSUITE_CLIENT_ID,
                "client_secret": NETSUITE_CLIENT_SECRET}  # fmt: skip
        response = await client.post("/services/rest/auth/oauth2/v1/token", data=form)
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client
    await sender(app).aclose()


def sender(app: Any) -> WebhookSender:
    found = app.state.webhooks
    assert isinstance(found, WebhookSender)
    return found


async def register(client: httpx.AsyncClient, url: str, **options: Any) -> dict[str, Any]:
    response = await client.post(
        "/__sandbox/webhooks", json={"url": url, "secret": SECRET, **options}
    )
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def deliveries(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await client.get("/__sandbox/webhooks")).json()["deliveries"]
    return found


async def open_opportunity(sf: httpx.AsyncClient) -> str:
    soql = "SELECT Id FROM Opportunity WHERE IsClosed = false LIMIT 1"
    found = (await sf.get(f"{API}/query", params={"q": soql})).json()
    return str(found["records"][0]["Id"])


async def patch_opportunity(sf: httpx.AsyncClient, opp_id: str, **fields: Any) -> None:
    response = await sf.patch(f"{API}/sobjects/Opportunity/{opp_id}", json=fields)
    assert response.status_code == 204, response.text


# -- Salesforce: Change Data Capture ------------------------------------------------------


async def test_closed_won_is_pushed_as_a_signed_cdc_update_of_the_changed_fields(
    sf: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    await register(sf, f"{url}/hook")
    opp_id = await open_opportunity(sf)
    await patch_opportunity(sf, opp_id, StageName="Closed Won")
    [received] = await target.wait_for(1)
    verify(received, SECRET)
    assert received.path == "/hook"
    event = json.loads(received.body)
    assert set(event) == {"schema", "payload", "event"}
    header = event["payload"]["ChangeEventHeader"]
    assert header["entityName"] == "Opportunity"
    assert header["recordIds"] == [opp_id]
    assert header["changeType"] == "UPDATE"
    assert {"StageName", "IsWon", "IsClosed", "LastModifiedDate"} <= set(header["changedFields"])
    assert "SystemModstamp" not in header["changedFields"]
    assert isinstance(header["commitTimestamp"], int) and header["commitTimestamp"] > 1e12
    assert header["transactionKey"] and header["sequenceNumber"] == 1
    assert event["payload"]["StageName"] == "Closed Won"
    assert event["payload"]["IsWon"] is True
    record = (await sf.get(f"{API}/sobjects/Opportunity/{opp_id}")).json()
    modstamp = datetime.strptime(record["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert header["commitTimestamp"] == round(modstamp.timestamp() * 1000)
    await wait_until(lambda: sender_state(sf, "delivered"), what="delivery logged")


def sender_state(client: httpx.AsyncClient, status: str) -> Any:
    async def check() -> bool:
        return any(d["status"] == status for d in await deliveries(client))

    return check()


async def test_a_created_opportunity_is_pushed_as_a_cdc_create_with_its_fields(
    sf: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    await register(sf, url)
    fields = {"Name": "Pushed deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
    created = (await sf.post(f"{API}/sobjects/Opportunity", json=fields)).json()
    [received] = await target.wait_for(1)
    verify(received, SECRET)
    payload = json.loads(received.body)["payload"]
    assert payload["ChangeEventHeader"]["changeType"] == "CREATE"
    assert payload["ChangeEventHeader"]["recordIds"] == [created["id"]]
    assert SF_ID.match(created["id"])
    assert payload["ChangeEventHeader"]["changedFields"] == []
    assert payload["Name"] == "Pushed deal" and payload["CloseDate"] == "2026-12-31"
    assert "Id" not in payload and "SystemModstamp" not in payload


async def test_rolled_back_and_uncaptured_writes_push_nothing(
    sf: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    await register(sf, url)
    opp_id = await open_opportunity(sf)
    rolled_back = [
        {"attributes": {"type": "Opportunity"}, "Id": opp_id, "Name": "Never committed"},
        {"attributes": {"type": "Opportunity"}, "Id": opp_id, "StageName": "Nope"},
    ]
    response = await sf.patch(
        f"{API}/composite/sobjects", json={"allOrNone": True, "records": rolled_back}
    )
    assert [r["success"] for r in response.json()] == [False, False]
    account = (await sf.get(f"{API}/query", params={"q": "SELECT Id FROM Account LIMIT 1"})).json()
    account_id = account["records"][0]["Id"]
    response = await sf.patch(f"{API}/sobjects/Account/{account_id}", json={"Industry": "Energy"})
    assert response.status_code == 204
    await patch_opportunity(sf, opp_id, Name="Sentinel")  # delivered in order, after the rest
    [received] = await target.wait_for(1)
    assert json.loads(received.body)["payload"]["Name"] == "Sentinel"
    await wait_until(lambda: sender_state(sf, "delivered"), what="delivery logged")
    assert len(target.received) == 1


async def test_a_failed_delivery_is_retried_with_the_same_id_and_a_fresh_signature(
    sf: httpx.AsyncClient,
) -> None:
    target = Receiver(answers=[503, 500])
    async with serve(target.app) as url:
        await register(sf, url, backoff_ms=1)
        await patch_opportunity(sf, await open_opportunity(sf), Name="Retried")
        first, second, third = await target.wait_for(3)
        for received in (first, second, third):
            verify(received, SECRET)
        assert first.body == second.body == third.body
        assert len({r.headers["x-eg-delivery"] for r in (first, second, third)}) == 1
        await wait_until(lambda: sender_state(sf, "delivered"), what="delivery logged")
    [logged] = await deliveries(sf)
    assert (logged["status"], logged["attempts"], logged["http_status"]) == ("delivered", 3, 202)


async def test_a_client_error_answer_is_final_and_the_write_still_succeeds(
    sf: httpx.AsyncClient,
) -> None:
    target = Receiver(answers=[401])
    async with serve(target.app) as url:
        await register(sf, url, backoff_ms=1)
        await patch_opportunity(sf, await open_opportunity(sf), Name="Refused")
        await wait_until(lambda: sender_state(sf, "failed"), what="failure logged")
    assert len(target.received) == 1
    [logged] = await deliveries(sf)
    assert (logged["attempts"], logged["http_status"]) == (1, 401)


async def test_an_unreachable_receiver_neither_fails_nor_holds_up_the_write(
    sf: httpx.AsyncClient,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await register(sf, f"http://127.0.0.1:{port}/hook", attempts=2, backoff_ms=1)
    opp_id = await open_opportunity(sf)
    await patch_opportunity(sf, opp_id, StageName="Closed Won")  # 204 while nothing listens
    await wait_until(lambda: sender_state(sf, "failed"), what="failure logged")
    [logged] = await deliveries(sf)
    assert logged["attempts"] == 2 and logged["http_status"] is None
    assert "Connect" in logged["error"]


async def test_the_control_plane_validates_shows_and_removes_the_target(
    sf: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    for bad in ({"url": "ftp://x", "secret": SECRET}, {"url": url}, {"url": url, "secret": ""},
                {"url": url, "secret": SECRET, "attempts": 0}, [1]):  # fmt: skip
        response = await sf.post("/__sandbox/webhooks", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]
    state = await register(sf, url, secrets=["old-secret-1234", "new-secret-5678"])
    assert state["target"]["url"] == url and state["target"]["secrets"] == 2
    assert SECRET not in json.dumps(state) and "old-secret" not in json.dumps(state)
    removed = await sf.request("DELETE", "/__sandbox/webhooks")
    assert removed.json()["target"] is None
    opp_id = await open_opportunity(sf)
    await patch_opportunity(sf, opp_id, Name="Nobody listens")
    await register(sf, url, secrets=["old-secret-1234", "new-secret-5678"])
    await patch_opportunity(sf, opp_id, Name="Rotating")
    [received] = await target.wait_for(1)
    verify(received, "old-secret-1234", "new-secret-5678")  # one v1 per secret
    assert json.loads(received.body)["payload"]["Name"] == "Rotating"


# -- NetSuite: the User Event script ------------------------------------------------------


async def open_invoices(ns: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(invoice id, customer id) of the first open invoices."""
    q = "SELECT id, entity FROM transaction WHERE type = 'CustInvc' AND status = 'A' ORDER BY id"
    response = await ns.post(
        "/services/rest/query/v1/suiteql",
        params={"limit": 2},
        headers={"Prefer": "transient"},
        json={"q": q},
    )
    assert response.status_code == 200, response.text
    return [(row["id"], row["entity"]) for row in response.json()["items"]]


async def test_a_customer_payment_is_pushed_as_a_user_event_notice(
    ns: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    await register(ns, url)
    [(invoice_id, customer), _] = await open_invoices(ns)
    line = {"doc": {"id": invoice_id}, "apply": True, "amount": Decimal("10.00")}
    payment = {
        "customer": {"id": customer},
        "payment": Decimal("10.00"),
        "undepFunds": True,
        "apply": {"items": [line]},
    }
    response = await ns.post(f"{RECORD}/customerPayment", content=dumps(payment))
    assert response.status_code == 204, response.text
    payment_id = response.headers["Location"].rsplit("/", 1)[1]
    [received] = await target.wait_for(1)
    verify(received, SECRET)
    notice = json.loads(received.body)
    record = (await ns.get(f"{RECORD}/customerPayment/{payment_id}")).json()
    assert notice == {
        "eventType": "create",
        "recordType": "customerpayment",
        "recordId": payment_id,
        "lastModifiedDate": record["lastModifiedDate"],
    }


async def test_an_invoice_edit_is_pushed_once_and_replays_or_failed_writes_push_nothing(
    ns: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    await register(ns, url)
    [(invoice_id, customer_id), (other_invoice, _)] = await open_invoices(ns)
    key = {"X-NetSuite-Idempotency-Key": "5b0c8d0e-8a3c-4d57-9a51-2b0f6e0c1d11"}
    for _ in range(2):  # the replay does not run the write again, so no second notice
        response = await ns.patch(f"{RECORD}/invoice/{invoice_id}", json={"memo": "x"}, headers=key)
        assert response.status_code == 204, response.text
    failed = await ns.patch(f"{RECORD}/invoice/{invoice_id}", json={"noSuchField": 1})
    assert failed.status_code == 400
    customer = await ns.patch(f"{RECORD}/customer/{customer_id}", json={})
    assert customer.status_code == 204  # not a type the script is deployed on
    sentinel = await ns.patch(f"{RECORD}/invoice/{other_invoice}", json={"memo": "sentinel"})
    assert sentinel.status_code == 204  # delivered in order, after anything sent before it
    await wait_until(lambda: sender_state(ns, "delivered"), what="first delivery")
    await target.wait_for(2)
    await wait_until(lambda: len(target.received) >= 2, what="sentinel")
    notices = [json.loads(r.body) for r in target.received]
    assert [(n["eventType"], n["recordId"]) for n in notices] == [
        ("edit", invoice_id),
        ("edit", other_invoice),
    ]
