"""Harvest's Reports API: the Uninvoiced report (``GET /v2/reports/uninvoiced``).

- ``from`` and ``to`` are required (a missing one is a 422 ``{"message"}``) and
  are dates on ``spent_date``, inclusive; both ``20260131`` and ``2026-01-31``
  are accepted. The timeframe cannot exceed 365 days (Harvest's docs say
  "1 year (365 days)"; that the answer is a 422, and that the days are counted
  inclusively, are unverified). ``to`` before ``from`` is a 422 (unverified).
- ``include_fixed_fee`` (default true) leaves fixed-fee projects out when false.
- One result per billable project with a time entry or an expense in the
  window, ordered by client and project name; ``page``/``per_page`` (1 to 2000,
  default 2000) page them, and ``links`` carry ``page`` numbers (the reports
  have no cursor).
- ``total_hours``: every hour in the window (unverified whether non-billable
  hours count). ``uninvoiced_hours``: billable hours not invoiced;
  ``uninvoiced_expenses``: billable expenses not invoiced;
  ``uninvoiced_amount``: the sum of those hours times their ``billable_rate``,
  plus those expenses. Sums are exact (unverified: Harvest may round amounts to
  the currency's minor unit) and written without trailing zeros (``50``,
  ``0.5``), as in Harvest's example.
- Approval: time awaiting approval cannot be invoiced in the firm's Harvest
  setup, so only approved (``is_closed``) time and expenses count as
  uninvoiced (unverified: Harvest's docs do not say whether unapproved time is
  included; ``create_app(..., uninvoiced_includes_unapproved=False)`` switches
  it: pass True to count unapproved work too).
- Reports have their own rate limit (see `sandboxes.harvest.gate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request

from sandboxes.harvest.errors import message
from sandboxes.harvest.query import ListQuery, Parser, parse_bool, parse_list_query
from sandboxes.harvest.records import ExpenseRec, TimeEntryRec
from sandboxes.harvest.state import HarvestState

__all__ = ["MAX_REPORT_DAYS", "REPORTS_PREFIX", "parse_report_date", "uninvoiced_report"]

REPORTS_PREFIX = "/v2/reports/"
MAX_REPORT_DAYS = 365
_COMPACT = re.compile(r"^[0-9]{8}$")
_ISO = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ZERO = Decimal(0)

Json = dict[str, Any]


def parse_report_date(name: str, raw: str) -> date:
    """A report date: ``YYYYMMDD`` (as in Harvest's examples) or ``YYYY-MM-DD``."""
    try:
        if _COMPACT.match(raw):
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        if _ISO.match(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise message(422, f"Invalid value for {name}: {raw!r} (expected a date YYYYMMDD)")


REPORT_SPEC: dict[str, Parser] = {
    "from": parse_report_date,
    "to": parse_report_date,
    "include_fixed_fee": parse_bool,
}


@dataclass(slots=True)
class _Totals:
    total_hours: Decimal = _ZERO
    hours: Decimal = _ZERO
    time_amount: Decimal = _ZERO
    expenses: Decimal = _ZERO


def _query(params: QueryParams) -> tuple[ListQuery, date, date]:
    if "cursor" in params:
        raise message(422, "Unknown parameter: cursor")
    query = parse_list_query("results", params, REPORT_SPEC)
    missing = [name for name in ("from", "to") if name not in query.values]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise message(422, f"{' and '.join(missing)} {verb} required")
    start, end = query.values["from"], query.values["to"]
    if end < start:
        raise message(422, "to must be on or after from")
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        raise message(422, f"The timeframe can't exceed 1 year ({MAX_REPORT_DAYS} days)")
    return query, start, end


def _uninvoiced(
    state: HarvestState,
    start: date,
    end: date,
    *,
    include_fixed_fee: bool,
    include_unapproved: bool,
) -> list[Json]:
    projects = {
        p.id: p
        for p in state.projects.values()
        if p.is_billable and (include_fixed_fee or not p.is_fixed_fee)
    }
    totals: dict[int, _Totals] = {}

    def pending(row: TimeEntryRec | ExpenseRec) -> bool:
        return row.billable and not row.is_billed and (include_unapproved or row.is_closed)

    for entry in state.time_entries.values():
        if entry.project_id in projects and start <= entry.spent_date <= end:
            sums = totals.setdefault(entry.project_id, _Totals())
            sums.total_hours += entry.hours
            if pending(entry):
                sums.hours += entry.hours
                sums.time_amount += entry.hours * (entry.billable_rate or _ZERO)
    for expense in state.expenses.values():
        if expense.project_id in projects and start <= expense.spent_date <= end:
            sums = totals.setdefault(expense.project_id, _Totals())
            if pending(expense):
                sums.expenses += expense.total_cost

    rows: list[tuple[tuple[str, str, int], Json]] = []
    for project_id, sums in totals.items():
        project = projects[project_id]
        client = state.clients[project.client_id]
        row = {
            "client_id": client.id,
            "client_name": client.name,
            "project_id": project.id,
            "project_name": project.name,
            "currency": client.currency,
            "total_hours": _plain(sums.total_hours),
            "uninvoiced_hours": _plain(sums.hours),
            "uninvoiced_expenses": _plain(sums.expenses),
            "uninvoiced_amount": _plain(sums.time_amount + sums.expenses),
        }
        rows.append(((client.name, project.name, project.id), row))
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])]


def _plain(value: Decimal) -> Decimal:
    """The same number without trailing zeros (``1312.5000`` → ``1312.5``, ``0.00`` → ``0``)."""
    return value.normalize() if value else _ZERO


def _page(request: Request, rows: list[Json], query: ListQuery) -> Json:
    per_page, page = query.per_page, query.page or 1
    total = len(rows)
    total_pages = max(1, -(-total // per_page))
    base = str(request.url.replace(query=""))

    def link(number: int) -> str:
        params = {**query.filters, "page": str(number), "per_page": str(per_page)}
        return f"{base}?{urlencode(sorted(params.items()))}"

    has_next = page < total_pages
    return {
        "results": rows[(page - 1) * per_page : page * per_page],
        "per_page": per_page,
        "total_pages": total_pages,
        "total_entries": total,
        "next_page": page + 1 if has_next else None,
        "previous_page": page - 1 if page > 1 else None,
        "page": page,
        "links": {
            "first": link(1),
            "next": link(page + 1) if has_next else None,
            "previous": link(page - 1) if page > 1 else None,
            "last": link(total_pages),
        },
    }


def uninvoiced_report(request: Request, state: HarvestState, *, include_unapproved: bool) -> Json:
    """The page of the Uninvoiced report that `request` asks for."""
    query, start, end = _query(request.query_params)
    rows = _uninvoiced(
        state,
        start,
        end,
        include_fixed_fee=query.values.get("include_fixed_fee", True),
        include_unapproved=include_unapproved,
    )
    return _page(request, rows, query)
