"""The account's User Event script: after each committed write, a signed notice goes out.

NetSuite has no native outbound webhooks; a customer who wants push deploys a
SuiteScript 2.x User Event script whose ``afterSubmit`` posts a small JSON
notice with ``N/https``. This module is that script for the sandbox,
deployed on invoices and customer payments::

    {"eventType": "create" | "edit" | "delete",
     "recordType": "customerpayment",         (context.newRecord.type: lower case)
     "recordId": "90123",
     "lastModifiedDate": "2024-06-15T10:00:00Z"}

The notice names the record, never its state: the receiver reads the record
back through the REST API. It is sent through `sandboxes.webhooks.WebhookSender`
(queued, signed, retried in the background), so the write it follows is never
slowed down or failed by it. A write that fails sends nothing; an idempotent
replay (the write did not run again) sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import Request

from sandboxes.netsuite.render import format_datetime
from sandboxes.netsuite.state import Record, Store
from sandboxes.webhooks import WebhookSender

__all__ = ["DEPLOYED_ON", "UserEvents"]

DEPLOYED_ON = frozenset({"invoice", "customerPayment"})
_EVENT_OF_METHOD = {"POST": "create", "PATCH": "edit", "DELETE": "delete"}

Operation = Callable[[Store], Record]


class UserEvents:
    """``afterSubmit`` of the deployed script, wrapped around a write operation."""

    def __init__(self, sender: WebhookSender, deployed_on: frozenset[str] = DEPLOYED_ON) -> None:
        self.sender = sender
        self.deployed_on = deployed_on

    def around(self, request: Request, record_type: str, operation: Operation) -> Operation:
        """`operation`, followed by a notice when it committed a write on a deployed type."""
        if record_type not in self.deployed_on:
            return operation

        def run(store: Store) -> Record:
            event = _EVENT_OF_METHOD.get(request.method)
            if event is None:  # PUT eid:{ext}: an upsert creates or edits
                ref = request.path_params.get("id", "")
                existing = store.by_external(record_type, ref.removeprefix("eid:"))
                event = "edit" if existing is not None else "create"
            record = operation(store)
            if self.sender.active:
                self.sender.send(self._notice(event, record_type, record))
            return record

        return run

    @staticmethod
    def _notice(event: str, record_type: str, record: Record) -> bytes:
        modified = record.get("lastModifiedDate")
        notice = {
            "eventType": event,
            "recordType": record_type.lower(),
            "recordId": record["id"],
            "lastModifiedDate": format_datetime(modified) if modified is not None else None,
        }
        return json.dumps(notice).encode()
