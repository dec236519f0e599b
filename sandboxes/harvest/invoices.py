"""Harvest invoices: ``GET /v2/invoices[/{id}]`` and ``POST /v2/invoices`` with imported work.

Harvest v2 marks time and expenses invoiced only by creating an invoice whose
line items are imported from tracked work::

    POST /v2/invoices
    {"client_id": 5735776, "number": "INV-ENG-2026-00042-2026-10", "issue_date": "2026-10-31",
     "due_date": "2026-11-30", "currency": "USD",
     "line_items_import": {"project_ids": [14308069],
                           "time": {"summary_type": "detailed", "from": "..", "to": ".."},
                           "expenses": {"summary_type": "detailed", "from": "..", "to": ".."}}}

The answer is 201 with the invoice. Every billable, not yet billed time entry
and expense of those projects spent within [from, to] becomes billed: its
``invoice`` is ``{id, number}``, ``is_billed`` and ``is_locked`` are true.
Only approved (``is_closed``) work is imported unless the account was built
with ``invoice_imports_unapproved`` (unverified which Harvest does; the
default matches the Uninvoiced report's). ``summary_type`` ``detailed`` makes
one line per record; ``project``/``task``/``people`` (time) and
``project``/``category``/``people`` (expenses) one line per group. The
projects must belong to the client (422 otherwise). An invoice ``number``
already used is a 422 (unverified: Harvest's uniqueness rule for numbers is
not documented); without one the invoice is numbered by its id. Listing
filters: ``client_id``, ``project_id`` (invoices with a line of that project),
``state``, ``updated_since``, ``from``/``to`` on ``issue_date``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandboxes.harvest.body import Body
from sandboxes.harvest.errors import message
from sandboxes.harvest.query import Parser, choice, parse_date, parse_datetime, parse_int
from sandboxes.harvest.records import ExpenseRec, InvoiceLineRec, InvoiceRec, TimeEntryRec
from sandboxes.harvest.render import stamp
from sandboxes.harvest.state import HarvestState

__all__ = ["INVOICE_FIELDS", "INVOICE_SPEC", "create_invoice", "match_invoices", "render_invoice"]

Json = dict[str, Any]
INVOICE_FIELDS = frozenset(
    {"client_id", "number", "issue_date", "due_date", "currency", "subject", "notes",
     "payment_term", "line_items_import"}
)  # fmt: skip
INVOICE_SPEC: dict[str, Parser] = {
    "client_id": parse_int,
    "project_id": parse_int,
    "state": choice("draft", "open", "paid", "closed"),
    "updated_since": parse_datetime,
    "from": parse_date,
    "to": parse_date,
}
_TIME_SUMMARIES = ("project", "task", "people", "detailed")
_EXPENSE_SUMMARIES = ("project", "category", "people", "detailed")


def _window(spec: Any, name: str, summaries: tuple[str, ...]) -> tuple[str, date, date] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or not set(spec) <= {"summary_type", "from", "to"}:
        raise message(422, f"line_items_import.{name} must be an object (summary_type, from, to)")
    summary = spec.get("summary_type")
    if summary not in summaries:
        raise message(422, f"line_items_import.{name}.summary_type must be one of {summaries}")
    days: list[date] = []
    for bound in ("from", "to"):
        try:
            days.append(date.fromisoformat(spec[bound]))
        except (KeyError, TypeError, ValueError):
            raise message(422, f"line_items_import.{name}.{bound} must be a date") from None
    return str(summary), days[0], days[1]


def _projects(state: HarvestState, client_id: int, spec: Any) -> set[int]:
    ids = spec.get("project_ids") if isinstance(spec, dict) else None
    if not isinstance(ids, list) or not ids or not all(type(i) is int for i in ids):
        raise message(422, "line_items_import.project_ids must be a list of project ids")
    for project_id in ids:
        project = state.projects.get(project_id)
        if project is None or project.client_id != client_id:
            raise message(422, f"Project {project_id} does not belong to client {client_id}")
    return set(ids)


def _eligible(
    rows: Iterable[TimeEntryRec | ExpenseRec],
    projects: set[int],
    window: tuple[str, date, date],
    include_unapproved: bool,
) -> list[Any]:
    _, start, end = window
    return sorted(
        (
            r
            for r in rows
            if r.project_id in projects
            and r.billable
            and not r.is_billed
            and (r.is_closed or include_unapproved)
            and start <= r.spent_date <= end
        ),
        key=lambda r: (r.spent_date, r.id),
    )


def _lines(
    state: HarvestState,
    rows: list[Any],
    kind: str,
    group: Callable[[Any], tuple[Any, ...]],
    describe: Callable[[Any], str],
    quantity: Callable[[Any], Decimal],
    amount: Callable[[Any], Decimal],
) -> list[InvoiceLineRec]:
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        grouped.setdefault(group(row), []).append(row)
    lines = []
    for members in grouped.values():
        qty = sum((quantity(r) for r in members), Decimal(0))
        total = sum((amount(r) for r in members), Decimal(0))
        lines.append(
            InvoiceLineRec(
                id=state.new_invoice_line_id(),
                project_id=members[0].project_id,
                kind=kind,
                description=describe(members[0]),
                quantity=qty,
                unit_price=(total / qty).quantize(Decimal("0.01")) if qty else total,
                amount=total,
            )
        )
    return lines


def _time_lines(state: HarvestState, rows: list[TimeEntryRec], summary: str) -> list[Any]:
    keys: dict[str, Callable[[TimeEntryRec], tuple[Any, ...]]] = {
        "detailed": lambda r: (r.id,),
        "project": lambda r: (r.project_id,),
        "task": lambda r: (r.project_id, r.task_id),
        "people": lambda r: (r.project_id, r.user_id),
    }
    return _lines(
        state,
        rows,
        "Service",
        keys[summary],
        lambda r: (
            f"{state.projects[r.project_id].name}: {state.tasks[r.task_id].name}"
            + (f" ({r.spent_date.isoformat()})" if summary == "detailed" else "")
        ),
        lambda r: r.hours,
        lambda r: r.hours * (r.billable_rate or Decimal(0)),
    )


def _expense_lines(state: HarvestState, rows: list[ExpenseRec], summary: str) -> list[Any]:
    keys: dict[str, Callable[[ExpenseRec], tuple[Any, ...]]] = {
        "detailed": lambda r: (r.id,),
        "project": lambda r: (r.project_id,),
        "category": lambda r: (r.project_id, r.category_id),
        "people": lambda r: (r.project_id, r.user_id),
    }
    return _lines(
        state,
        rows,
        "Product",
        keys[summary],
        lambda r: f"{state.projects[r.project_id].name}: {state.categories[r.category_id].name}",
        lambda r: Decimal(1),
        lambda r: r.total_cost,
    )


def create_invoice(state: HarvestState, body: Body, *, include_unapproved: bool) -> InvoiceRec:
    client_id = body.integer("client_id", required=True)
    assert client_id is not None
    client = state.clients.get(client_id)
    if client is None:
        raise message(422, f"Client {client_id} not found")
    number = body.text("number")
    if number is not None and any(i.number == number for i in state.invoices.values()):
        raise message(422, "Number has already been taken")
    issue_date = body.day("issue_date") or state.stamp().date()
    spec = body.data.get("line_items_import")
    projects = _projects(state, client_id, spec) if spec is not None else set()
    imports = spec if isinstance(spec, dict) else {}
    time = _window(imports.get("time"), "time", _TIME_SUMMARIES)
    expenses = _window(imports.get("expenses"), "expenses", _EXPENSE_SUMMARIES)
    if spec is not None and (not set(imports) <= {"project_ids", "time", "expenses"}):
        raise message(422, "line_items_import accepts project_ids, time and expenses")
    entries = (
        _eligible(state.time_entries.values(), projects, time, include_unapproved) if time else []
    )
    spent = (
        _eligible(state.expenses.values(), projects, expenses, include_unapproved)
        if expenses
        else []
    )
    now = state.stamp()
    invoice_id = state.new_invoice_id()
    invoice = InvoiceRec(
        id=invoice_id,
        client_id=client_id,
        number=number or str(invoice_id),
        currency=body.text("currency") or client.currency,
        issue_date=issue_date,
        due_date=body.day("due_date") or issue_date + timedelta(days=30),
        state="draft",
        line_items=[
            *(_time_lines(state, entries, time[0]) if time else []),
            *(_expense_lines(state, spent, expenses[0]) if expenses else []),
        ],
        created_at=now,
        updated_at=now,
        subject=body.text("subject"),
        notes=body.text("notes"),
        period_start=min((w[1] for w in (time, expenses) if w), default=None),
        period_end=max((w[2] for w in (time, expenses) if w), default=None),
        payment_term=body.text("payment_term") or "custom",
    )
    for row in (*entries, *spent):
        row.invoice = invoice.ref
        row.updated_at = now
    state.invoices[invoice.id] = invoice
    return invoice


def match_invoices(invoices: Iterable[InvoiceRec], values: Mapping[str, Any]) -> list[InvoiceRec]:
    def matches(invoice: InvoiceRec) -> bool:
        for name, value in values.items():
            if name == "client_id":
                ok = invoice.client_id == value
            elif name == "project_id":
                ok = any(line.project_id == value for line in invoice.line_items)
            elif name == "state":
                ok = invoice.state == value
            elif name == "updated_since":
                ok = invoice.updated_at >= value
            elif name == "from":
                ok = invoice.issue_date >= value
            else:  # "to"
                ok = invoice.issue_date <= value
            if not ok:
                return False
        return True

    return [invoice for invoice in invoices if matches(invoice)]


def render_invoice(state: HarvestState, invoice: InvoiceRec) -> Json:
    client = state.clients[invoice.client_id]

    def project(project_id: int | None) -> Json | None:
        found = state.projects.get(project_id) if project_id is not None else None
        return None if found is None else {"id": found.id, "name": found.name, "code": found.code}

    amount = invoice.amount
    return {
        "id": invoice.id,
        "client_key": client.statement_key,
        "number": invoice.number,
        "purchase_order": "",
        "amount": amount,
        "due_amount": Decimal(0) if invoice.state == "paid" else amount,
        "tax": None,
        "tax_amount": Decimal(0),
        "tax2": None,
        "tax2_amount": Decimal(0),
        "discount": None,
        "discount_amount": Decimal(0),
        "subject": invoice.subject,
        "notes": invoice.notes,
        "currency": invoice.currency,
        "state": invoice.state,
        "period_start": invoice.period_start.isoformat() if invoice.period_start else None,
        "period_end": invoice.period_end.isoformat() if invoice.period_end else None,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "payment_term": invoice.payment_term,
        "sent_at": None,
        "paid_at": None,
        "closed_at": None,
        "recurring_invoice_id": None,
        "created_at": stamp(invoice.created_at),
        "updated_at": stamp(invoice.updated_at),
        "client": {"id": client.id, "name": client.name},
        "estimate": None,
        "retainer": None,
        "creator": None,
        "line_items": [
            {
                "id": line.id,
                "kind": line.kind,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "taxed": False,
                "taxed2": False,
                "project": project(line.project_id),
            }
            for line in invoice.line_items
        ],
    }
