"""Change Data Capture, relayed: the org pushes a change event after each committed write.

Real orgs publish CDC events on ``/data/OpportunityChangeEvent`` (CometD or
the Pub/Sub API); a webhook receiver gets them only through code deployed in
the org — an Apex trigger on the change event (or a Flow) making a callout.
The sandbox plays that relay: for every committed create, update or delete of
a captured entity (Opportunity by default) it sends one signed notice through
`sandboxes.webhooks.WebhookSender`, the event in CometD's ``data`` shape::

    {"schema": "<schema id>",
     "payload": {"ChangeEventHeader": {"entityName": "Opportunity",
                   "recordIds": ["006..."], "changeType": "UPDATE",
                   "changedFields": ["StageName", "IsWon", ...], "nulledFields": [],
                   "diffFields": [], "changeOrigin": "com/salesforce/api/rest/60.0",
                   "transactionKey": "...", "sequenceNumber": 1,
                   "commitTimestamp": <ms>, "commitNumber": n, "commitUser": "005..."},
                 "StageName": "Closed Won", "IsWon": true, ...},
     "event": {"replayId": n}}

An UPDATE carries the changed fields (``LastModifiedDate`` always, never
``SystemModstamp``), a CREATE every non-null field with empty
``changedFields``, a DELETE the header only. One event per record (real CDC
may merge records changed identically in one transaction into one event).

"Committed" is decided when the whole API call is over: `ChangeCaptureMiddleware`
opens a per-request buffer (a context variable, so composite subrequests, which
run in the same task, share it) and publishes it after the call. A change whose
record was rolled back (``allOrNone`` restores deep copies of the tables) no
longer finds its own record object in the table and is not sent.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from sandboxes import jsonwire
from sandboxes.salesforce.schema import SObjectSchema
from sandboxes.salesforce.state import OrgState, Record
from sandboxes.webhooks import WebhookSender

__all__ = ["CHANGE_ORIGIN", "ChangeCapture", "ChangeCaptureMiddleware"]

CHANGE_ORIGIN = "com/salesforce/api/rest/60.0"
_NOT_CAPTURED = frozenset({"Id", "SystemModstamp"})  # the id travels in recordIds


@dataclass(frozen=True, slots=True)
class _Change:
    entity: str
    record: Record  # the live record object, to check it survived the call
    change_type: str
    changed: tuple[str, ...]
    values: dict[str, Any]
    stamp: datetime
    user: str


def _cdc_time(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _schema_id(entity: str) -> str:
    digest = hashlib.sha256(f"{entity}ChangeEvent".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


class ChangeCapture:
    """Turns the org's writes into CDC events for the registered webhook."""

    def __init__(
        self,
        state: OrgState,
        sender: WebhookSender,
        entities: frozenset[str] = frozenset({"Opportunity"}),
    ) -> None:
        self.state = state
        self.sender = sender
        self.entities = entities
        self._buffer: contextvars.ContextVar[list[_Change] | None] = contextvars.ContextVar(
            f"cdc-{id(self)}", default=None
        )
        self._replay_id = 0
        self._commit_number = 0
        state.on_change = self.record

    def record(
        self, schema: SObjectSchema, record: Record, change_type: str, before: Record | None
    ) -> None:
        """Called by the DML layer after each write (`before`: the record before an UPDATE)."""
        buffer = self._buffer.get()
        if buffer is None or schema.name not in self.entities or not self.sender.active:
            return
        if change_type == "CREATE":
            changed: tuple[str, ...] = ()
            values = {k: v for k, v in record.items() if v is not None and k not in _NOT_CAPTURED}
        elif change_type == "UPDATE":
            old = before or {}
            changed = tuple(
                k for k, v in record.items() if k not in _NOT_CAPTURED and old.get(k) != v
            )
            values = {k: record.get(k) for k in changed}
        else:
            changed, values = (), {}
        stamp: datetime = record["SystemModstamp"]
        user = str(record.get("LastModifiedById") or self.state.integration_user_id)
        buffer.append(_Change(schema.name, record, change_type, changed, values, stamp, user))

    def begin(self) -> contextvars.Token[list[_Change] | None]:
        return self._buffer.set([])

    def end(self, token: contextvars.Token[list[_Change] | None]) -> None:
        """Publish what the call committed, then close its buffer."""
        changes = self._buffer.get() or []
        self._buffer.reset(token)
        transaction = str(uuid.uuid4())
        sequence = 0
        for change in changes:
            if self.state.tables[change.entity].get(change.record["Id"]) is not change.record:
                continue  # rolled back: the table holds a restored copy, or nothing
            sequence += 1
            self.sender.send(self._event(change, transaction, sequence))

    def _event(self, change: _Change, transaction: str, sequence: int) -> bytes:
        self._replay_id += 1
        self._commit_number += 1
        header = {
            "entityName": change.entity,
            "recordIds": [change.record["Id"]],
            "changeType": change.change_type,
            "changeOrigin": CHANGE_ORIGIN,
            "transactionKey": transaction,
            "sequenceNumber": sequence,
            "commitTimestamp": int(change.stamp.timestamp() * 1000),
            "commitNumber": self._commit_number,
            "commitUser": change.user,
            "nulledFields": [k for k in change.changed if change.values.get(k) is None],
            "diffFields": [],
            "changedFields": list(change.changed),
        }
        event = {
            "schema": _schema_id(change.entity),
            "payload": {"ChangeEventHeader": header, **change.values},
            "event": {"replayId": self._replay_id},
        }
        return jsonwire.dumps(event, default=_cdc_time).encode()


class ChangeCaptureMiddleware:
    """Pure ASGI: one change buffer per API call, published once the call is over."""

    def __init__(self, app: ASGIApp, *, capture: ChangeCapture) -> None:
        self.app = app
        self.capture = capture

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        token = self.capture.begin()
        try:
            await self.app(scope, receive, send)
        finally:
            self.capture.end(token)
