"""Marking work invoiced in Harvest: an invoice whose lines are imported from tracked work.

Harvest v2 marks time entries and expenses invoiced only by creating an
invoice with ``line_items_import`` (``POST /v2/invoices``, see
`sandboxes.harvest.invoices`): every approved, billable, not yet billed
record of the project within [from, to] then carries ``invoice {id, number}``
and is billed and locked. Harvest has no idempotency key, so the invoice
number (the ERP invoice's external id) is the key: the invoice is looked up
by number (``GET /v2/invoices?client_id=``, matched client-side: Harvest has
no number filter; not by project, since an invoice that imported nothing has
no line naming it) before the POST, and again after a POST that
failed, so a replay or a lost answer never creates a second invoice. The
POST itself is never retried.
"""

from __future__ import annotations

from typing import Any

from adapters.harvest.errors import SYSTEM
from adapters.harvest.listing import Lister
from adapters.harvest.mapping import ProjectRef
from adapters.harvest.wire import Json, decode, encode
from adapters.http import VendorClient
from domain.commands import InvoiceMarking
from domain.errors import MappingFailed, UpstreamUnavailable
from domain.ids import RecordId
from domain.outcomes import MarkedWork

__all__ = ["invoice_body", "mark_invoiced"]


def invoice_body(command: InvoiceMarking, project: ProjectRef, client_id: int) -> dict[str, Any]:
    window = {
        "summary_type": "detailed",
        "from": command.date_from.isoformat(),
        "to": command.date_to.isoformat(),
    }
    body: dict[str, Any] = {
        "client_id": client_id,
        "number": command.number,
        "issue_date": command.issue_date.isoformat(),
        "line_items_import": {"project_ids": [project.id], "time": window, "expenses": window},
    }
    if project.currency:
        body["currency"] = project.currency
    return body


async def _client_id(http: VendorClient, project: ProjectRef) -> int:
    found = decode(await http.request("GET", f"/v2/projects/{project.id}"))
    client = found.get("client")
    if not isinstance(client, dict) or not isinstance(client.get("id"), int):
        raise MappingFailed(f"project {project.id} has no client", system=SYSTEM)
    return int(client["id"])


async def _by_number(lister: Lister, client_id: int, number: str) -> Json | None:
    for invoice in await lister.all("/v2/invoices", "invoices", {"client_id": str(client_id)}):
        if invoice.get("number") == number:
            return invoice
    return None


async def _carrying(
    lister: Lister, resource: str, command: InvoiceMarking, project: int
) -> list[RecordId]:
    params = {
        "project_id": str(project),
        "is_billed": "true",
        "from": command.date_from.isoformat(),
        "to": command.date_to.isoformat(),
    }
    found = []
    for row in await lister.all(f"/v2/{resource}", resource, params):
        invoice = row.get("invoice")
        if isinstance(invoice, dict) and invoice.get("number") == command.number:
            found.append(RecordId(str(row["id"])))
    return sorted(found, key=int)


async def mark_invoiced(
    http: VendorClient, lister: Lister, project: ProjectRef, command: InvoiceMarking
) -> MarkedWork:
    client_id = await _client_id(http, project)
    invoice = await _by_number(lister, client_id, command.number)
    created = invoice is None
    if invoice is None:
        try:
            response = await http.request(
                "POST",
                "/v2/invoices",
                content=encode(invoice_body(command, project, client_id)),
                headers={"Content-Type": "application/json"},
                idempotent=False,
            )
            invoice = decode(response)
        except UpstreamUnavailable:
            invoice = await _by_number(lister, client_id, command.number)
            if invoice is None:
                raise
    return MarkedWork(
        engagement_key=command.engagement_key,
        invoice_id=RecordId(str(invoice["id"])),
        number=command.number,
        time_entry_ids=tuple(await _carrying(lister, "time_entries", command, project.id)),
        expense_ids=tuple(await _carrying(lister, "expenses", command, project.id)),
        created=created,
    )
