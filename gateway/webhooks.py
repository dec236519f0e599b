"""Inbound webhooks: signed change notices from the systems that can push.

Who pushes: Salesforce (Change Data Capture events, relayed by an Apex trigger
or Flow callout in the org) at ``POST /webhooks/salesforce``, and NetSuite (a
SuiteScript User Event script posting ``{"eventType", "recordType",
"recordId", "lastModifiedDate"}`` through ``N/https``) at ``POST
/webhooks/netsuite``. Harvest and Kantata have no webhooks and are polled only.

A notice is a HINT, never a source of state: only the record type and ids are
read from it, and `ChangeSink.sync_records` re-reads those records from the
vendor's API and publishes the canonical events (exactly once, deduplicated
with the polling path by record version). A forged, replayed or stale notice
can therefore at worst cause a re-read.

Authenticity: ``X-EG-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>." +
raw body)>`` (several ``v1`` allowed: a sender signs with the old and the new
secret while rotating), compared with `hmac.compare_digest`; ``t`` must be
within ``EG_WEBHOOK_TOLERANCE_S`` of now, either way. ``X-EG-Delivery: <id>``
names the notice (the same on each retry): its id is claimed with SET NX
(TTL twice the tolerance, so it outlives any timestamp still accepted), and a
delivery already claimed is acknowledged without being processed again.

Answers, in the order they are decided: 404 unknown system; 503 no
``EG_WEBHOOK_SECRET`` (webhooks are refused until one is set); 413 body over
`MAX_BODY_BYTES`; 401 signature missing, malformed, forged, stale or from the
future; 400 missing/bad delivery id, malformed body, unknown record type;
200 ``duplicate``; 202 ``accepted`` once the records were synced.

When the sink (or Redis) fails the answer is 503 with ``Retry-After`` and the
delivery claim is released, so the sender's retry is processed. We chose that
over acknowledging and queueing in process: both vendors' relays already
retry with backoff, a 202 is only sent once the events are published (nothing
acknowledged lives only in this process's memory, which a crash would lose),
and a sender that gives up is covered by the polling path anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, Protocol

from pydantic import SecretStr
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.store.keys import StoreKeys
from domain.errors import InvalidInput

__all__ = [
    "MAX_BODY_BYTES",
    "RECORD_TYPES",
    "ChangeSink",
    "WebhookEndpoint",
    "signature_header",
]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # a CDC event is at most 1 MB; our notices are far smaller
MAX_RECORDS = 2000  # ids in one notice
MAX_EVENTS = 200  # notices in one body (an Apex relay may batch a trigger's events)
MAX_SIGNATURES = 8  # v1 values in one header (one per secret being rotated)
RETRY_AFTER_S = 5
# What each pushing system may name in a notice -> the record type the sink syncs.
RECORD_TYPES: dict[str, dict[str, str]] = {
    "salesforce": {"opportunity": "Opportunity"},
    "netsuite": {"customerpayment": "customerPayment", "invoice": "invoice"},
}
_SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_NETSUITE_ID = re.compile(r"[0-9]{1,18}")
_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CHANGE_TYPES = frozenset(
    {"CREATE", "UPDATE", "DELETE", "UNDELETE"}
    | {f"GAP_{t}" for t in ("CREATE", "UPDATE", "DELETE", "UNDELETE", "OVERFLOW")}
)


class ChangeSink(Protocol):
    """Re-reads the named records from the vendor and publishes what changed."""

    async def sync_records(self, system: str, record_type: str, ids: Sequence[str]) -> int: ...


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _refuse(status: int, code: str, message: str) -> NoReturn:
    raise _Refused(status, code, message)


def signature_header(secrets: Sequence[str], body: bytes, timestamp: int) -> str:
    """``t=<timestamp>,v1=<hmac>[,v1=...]``: what a sender puts in ``X-EG-Signature``."""
    signed = f"{timestamp}.".encode() + body
    macs = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={mac}" for mac in macs)])


def verify_signature(
    header: str | None, body: bytes, secret: str, *, now: float, tolerance_s: float
) -> None:
    """Refuse (401) unless one ``v1`` is the HMAC of ``t.body`` and ``t`` is recent."""
    if not header:
        _refuse(401, "SIGNATURE_MISSING", "X-EG-Signature header is missing")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            _refuse(401, "SIGNATURE_MALFORMED", "X-EG-Signature must be t=<unix>,v1=<hex>")
        if name == "t":
            if (
                timestamp is not None
                or not (value.isascii() and value.isdigit())
                or len(value) > 12
            ):
                _refuse(401, "SIGNATURE_MALFORMED", "X-EG-Signature needs one integer t=")
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
        # other schemes (v0, ...) are ignored, so senders can add new ones
    if timestamp is None or not 1 <= len(candidates) <= MAX_SIGNATURES:
        _refuse(401, "SIGNATURE_MALFORMED", "X-EG-Signature must be t=<unix>,v1=<hex>")
    if abs(now - timestamp) > tolerance_s:
        _refuse(
            401,
            "SIGNATURE_STALE",
            f"signature timestamp is {round(now - timestamp)} s from now "
            f"(tolerance {tolerance_s:g} s)",
        )
    expected = signature_header([secret], body, timestamp).partition(",v1=")[2]
    # compare every candidate (no early exit): the time taken says nothing about which matched
    matched = [hmac.compare_digest(expected.encode(), c.encode("utf-8")) for c in candidates]
    if not any(matched):
        _refuse(401, "SIGNATURE_INVALID", "no v1 signature matches the body")


def _events(body: Any) -> list[Any]:
    events = body if isinstance(body, list) else [body]
    if not events or len(events) > MAX_EVENTS:
        _refuse(400, "MALFORMED_BODY", f"expected 1 to {MAX_EVENTS} notices")
    return events


def _record_type(system: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
        _refuse(400, "MALFORMED_BODY", "the notice does not name a record type")
    found = RECORD_TYPES[system].get(name.lower())
    if found is None:
        _refuse(400, "UNKNOWN_RECORD_TYPE", f"{system} notices for {name!r} are not handled")
    return found


def _salesforce(body: Any) -> list[tuple[str, str]]:
    """(record type, id) of each record a Change Data Capture event names."""
    out = []
    for event in _events(body):
        payload = event.get("payload") if isinstance(event, dict) else None
        header = payload.get("ChangeEventHeader") if isinstance(payload, dict) else None
        if not isinstance(header, dict):
            _refuse(400, "MALFORMED_BODY", "expected a CDC event with payload.ChangeEventHeader")
        if header.get("changeType") not in _CHANGE_TYPES:
            _refuse(400, "MALFORMED_BODY", f"unknown changeType {header.get('changeType')!r}")
        record_type = _record_type("salesforce", header.get("entityName"))
        ids = header.get("recordIds")
        if not isinstance(ids, list) or not all(
            isinstance(i, str) and _SALESFORCE_ID.fullmatch(i) for i in ids
        ):
            _refuse(400, "MALFORMED_BODY", "recordIds must be a list of Salesforce ids")
        out += [(record_type, i) for i in ids]
    return out


def _netsuite(body: Any) -> list[tuple[str, str]]:
    """(record type, id) of each User Event notice."""
    out = []
    for notice in _events(body):
        if not isinstance(notice, dict):
            _refuse(400, "MALFORMED_BODY", "expected a JSON object per notice")
        event, record_id = notice.get("eventType"), notice.get("recordId")
        if not isinstance(event, str) or not event:
            _refuse(400, "MALFORMED_BODY", "eventType must be a non-empty string")
        record_type = _record_type("netsuite", notice.get("recordType"))
        if isinstance(record_id, int) and not isinstance(record_id, bool):
            record_id = str(record_id)
        if not isinstance(record_id, str) or not _NETSUITE_ID.fullmatch(record_id):
            _refuse(400, "MALFORMED_BODY", "recordId must be a NetSuite internal id")
        out.append((record_type, record_id))
    return out


_PARSERS: dict[str, Callable[[Any], list[tuple[str, str]]]] = {
    "salesforce": _salesforce,
    "netsuite": _netsuite,
}


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        _refuse(413, "PAYLOAD_TOO_LARGE", f"body over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            _refuse(413, "PAYLOAD_TOO_LARGE", f"body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class WebhookEndpoint:
    """``POST /webhooks/{system}``: verify, deduplicate, hand the ids to the sink."""

    def __init__(
        self,
        *,
        secret: SecretStr | None,
        tolerance_s: float,
        redis: Redis,
        keys: StoreKeys,
        sink: ChangeSink | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.tolerance_s = tolerance_s
        self.redis = redis
        self.keys = keys
        self.sink = sink  # None: nothing can sync a notice yet (503, the sender retries)
        self.clock = clock

    def routes(self) -> list[Route]:
        return [Route("/webhooks/{system}", self.handle, methods=["POST"])]

    async def handle(self, request: Request) -> Response:
        system = request.path_params["system"]
        try:
            return await self._handle(system, request)
        except _Refused as refused:
            level = logging.WARNING if refused.status == 401 else logging.INFO
            logger.log(level, "webhook from %s refused: %s", system, refused.message)
            headers = {"Retry-After": str(RETRY_AFTER_S)} if refused.status == 503 else None
            return JSONResponse(
                {"error": refused.code, "message": refused.message},
                status_code=refused.status,
                headers=headers,
            )

    async def _handle(self, system: str, request: Request) -> Response:
        parse = _PARSERS.get(system)
        if parse is None:
            _refuse(404, "UNKNOWN_SYSTEM", f"no webhooks for {system!r}: {', '.join(_PARSERS)}")
        secret = self.secret.get_secret_value() if self.secret is not None else ""
        if not secret:
            _refuse(503, "WEBHOOKS_DISABLED", "EG_WEBHOOK_SECRET is not set")
        body = await _read_body(request)
        verify_signature(
            request.headers.get("x-eg-signature"),
            body,
            secret,
            now=self.clock(),
            tolerance_s=self.tolerance_s,
        )
        delivery = request.headers.get("x-eg-delivery", "")
        if not _DELIVERY_ID.fullmatch(delivery):
            _refuse(400, "DELIVERY_ID_INVALID", "X-EG-Delivery must be 1-128 of [A-Za-z0-9._:-]")
        try:
            records = parse(json.loads(body))
        except (ValueError, RecursionError):
            _refuse(400, "MALFORMED_BODY", "the body is not JSON")
        if len(records) > MAX_RECORDS:
            _refuse(400, "MALFORMED_BODY", f"more than {MAX_RECORDS} records in one delivery")
        sink = self.sink
        if sink is None:
            _refuse(503, "SYNC_UNAVAILABLE", "the inbound sync is not running")
        key = self.keys.webhook_delivery(system, delivery)
        try:
            claimed = await self.redis.set(
                key, uuid.uuid4().hex, nx=True, ex=max(1, round(2 * self.tolerance_s))
            )
        except Exception:
            logger.warning("webhook delivery %s: the store is unavailable", delivery, exc_info=True)
            _refuse(503, "STORE_UNAVAILABLE", "could not record the delivery; retry later")
        if not claimed:
            return JSONResponse({"status": "duplicate", "delivery": delivery}, status_code=200)
        try:
            synced = await self._sync(sink, system, records)
        except InvalidInput as refused:  # the sink does not sync that record type
            await self._release(key)
            _refuse(400, "UNKNOWN_RECORD_TYPE", str(refused))
        except Exception:
            logger.warning("webhook delivery %s: sync failed", delivery, exc_info=True)
            await self._release(key)
            _refuse(503, "SYNC_FAILED", "the records could not be synced; retry later")
        return JSONResponse(
            {"status": "accepted", "delivery": delivery, "records": len(records), "synced": synced},
            status_code=202,
        )

    @staticmethod
    async def _sync(sink: ChangeSink, system: str, records: list[tuple[str, str]]) -> int:
        by_type: dict[str, dict[str, None]] = {}  # in order of appearance, each id once
        for record_type, record_id in records:
            by_type.setdefault(record_type, {})[record_id] = None
        synced = 0
        for record_type, ids in by_type.items():
            synced += await sink.sync_records(system, record_type, list(ids))
        return synced

    async def _release(self, key: str) -> None:
        """Forget a claim whose processing failed, so the sender's retry is processed."""
        try:
            await self.redis.delete(key)
        except Exception:  # the claim lapses with its TTL; polling covers the gap
            logger.warning("could not release webhook claim %s", key, exc_info=True)
