"""The ``/v2`` endpoints of the Harvest sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.firm import Firm
from sandboxes.harvest import filters
from sandboxes.harvest.body import Body
from sandboxes.harvest.errors import not_found
from sandboxes.harvest.invoices import (
    INVOICE_FIELDS,
    INVOICE_SPEC,
    create_invoice,
    match_invoices,
    render_invoice,
)
from sandboxes.harvest.jsonenc import HarvestJSONResponse
from sandboxes.harvest.paging import paginate
from sandboxes.harvest.query import Parser, parse_list_query
from sandboxes.harvest.records import ExpenseRec, TimeEntryRec
from sandboxes.harvest.render import (
    company,
    render_client,
    render_expense,
    render_expense_category,
    render_project,
    render_task,
    render_time_entry,
    render_user,
)
from sandboxes.harvest.reports import uninvoiced_report
from sandboxes.harvest.state import HarvestState
from sandboxes.harvest.writes import (
    EXPENSE_FIELDS,
    EXPENSE_PATCH_FIELDS,
    TIME_ENTRY_FIELDS,
    TIME_ENTRY_PATCH_FIELDS,
    create_expense,
    create_time_entry,
    refuse_if_locked,
    update_expense,
    update_time_entry,
)

__all__ = ["HarvestAccount"]


def _by_date(row: TimeEntryRec | ExpenseRec) -> tuple[str, int]:
    return (row.spent_date.isoformat(), row.id)


def _by_id(row: Any) -> tuple[int]:
    return (row.id,)


def _id(request: Request) -> int:
    value: int = request.path_params["id"]
    return value


class HarvestAccount:
    """One Harvest account: its state (rebuilt on reset) and its routes.

    `uninvoiced_includes_unapproved` makes the Uninvoiced report count time and
    expenses awaiting approval (see `sandboxes.harvest.reports`);
    `invoice_imports_unapproved` makes invoices import them (`sandboxes.harvest.invoices`).
    """

    def __init__(
        self,
        firm: Firm,
        *,
        uninvoiced_includes_unapproved: bool = False,
        invoice_imports_unapproved: bool = False,
    ) -> None:
        self.firm = firm
        self.state = HarvestState(firm)
        self.uninvoiced_includes_unapproved = uninvoiced_includes_unapproved
        self.invoice_imports_unapproved = invoice_imports_unapproved

    def reset(self) -> None:
        self.state = HarvestState(self.firm)

    def routes(self) -> list[Route]:
        get, post, patch, delete = ["GET"], ["POST"], ["PATCH"], ["DELETE"]
        return [
            Route("/v2/company", self.get_company, methods=get),
            Route("/v2/users/me", self.get_me, methods=get),
            Route("/v2/users", self.list_users, methods=get),
            Route("/v2/users/{id:int}", self.get_user, methods=get),
            Route("/v2/clients", self.list_clients, methods=get),
            Route("/v2/clients/{id:int}", self.get_client, methods=get),
            Route("/v2/tasks", self.list_tasks, methods=get),
            Route("/v2/tasks/{id:int}", self.get_task, methods=get),
            Route("/v2/expense_categories", self.list_categories, methods=get),
            Route("/v2/expense_categories/{id:int}", self.get_category, methods=get),
            Route("/v2/projects", self.list_projects, methods=get),
            Route("/v2/projects/{id:int}", self.get_project, methods=get),
            Route("/v2/time_entries", self.list_time_entries, methods=get),
            Route("/v2/time_entries", self.post_time_entry, methods=post),
            Route("/v2/time_entries/{id:int}", self.get_time_entry, methods=get),
            Route("/v2/time_entries/{id:int}", self.patch_time_entry, methods=patch),
            Route("/v2/time_entries/{id:int}", self.delete_time_entry, methods=delete),
            Route("/v2/expenses", self.list_expenses, methods=get),
            Route("/v2/expenses", self.post_expense, methods=post),
            Route("/v2/expenses/{id:int}", self.get_expense, methods=get),
            Route("/v2/expenses/{id:int}", self.patch_expense, methods=patch),
            Route("/v2/expenses/{id:int}", self.delete_expense, methods=delete),
            Route("/v2/invoices", self.list_invoices, methods=get),
            Route("/v2/invoices", self.post_invoice, methods=post),
            Route("/v2/invoices/{id:int}", self.get_invoice, methods=get),
            Route("/v2/reports/uninvoiced", self.get_uninvoiced_report, methods=get),
        ]

    # -- reference data ---------------------------------------------------

    def _simple_list(
        self,
        request: Request,
        resource: str,
        rows: Any,
        spec: dict[str, Parser],
        render: Callable[[Any], dict[str, Any]],
    ) -> Response:
        query = parse_list_query(resource, request.query_params, spec)
        matched = filters.match_simple(rows, query.values)
        page = paginate(request, resource, matched, query, sort_key=_by_id, render=render)
        return HarvestJSONResponse(page)

    async def get_company(self, request: Request) -> Response:
        return HarvestJSONResponse(company(self.state))

    async def get_me(self, request: Request) -> Response:
        return HarvestJSONResponse(render_user(self.state.users[self.state.me]))

    async def list_users(self, request: Request) -> Response:
        rows = self.state.users.values()
        return self._simple_list(request, "users", rows, filters.ACTIVE_SPEC, render_user)

    async def get_user(self, request: Request) -> Response:
        user = self.state.users.get(_id(request))
        if user is None:
            raise not_found()
        return HarvestJSONResponse(render_user(user))

    async def list_clients(self, request: Request) -> Response:
        rows = self.state.clients.values()
        return self._simple_list(request, "clients", rows, filters.ACTIVE_SPEC, render_client)

    async def get_client(self, request: Request) -> Response:
        client = self.state.clients.get(_id(request))
        if client is None:
            raise not_found()
        return HarvestJSONResponse(render_client(client))

    async def list_tasks(self, request: Request) -> Response:
        rows = self.state.tasks.values()
        return self._simple_list(request, "tasks", rows, filters.ACTIVE_SPEC, render_task)

    async def get_task(self, request: Request) -> Response:
        task = self.state.tasks.get(_id(request))
        if task is None:
            raise not_found()
        return HarvestJSONResponse(render_task(task))

    async def list_categories(self, request: Request) -> Response:
        rows = self.state.categories.values()
        return self._simple_list(
            request, "expense_categories", rows, filters.CATEGORY_SPEC, render_expense_category
        )

    async def get_category(self, request: Request) -> Response:
        category = self.state.categories.get(_id(request))
        if category is None:
            raise not_found()
        return HarvestJSONResponse(render_expense_category(category))

    async def list_projects(self, request: Request) -> Response:
        state = self.state
        return self._simple_list(
            request,
            "projects",
            state.projects.values(),
            filters.PROJECT_SPEC,
            lambda row: render_project(state, row),
        )

    async def get_project(self, request: Request) -> Response:
        project = self.state.projects.get(_id(request))
        if project is None:
            raise not_found()
        return HarvestJSONResponse(render_project(self.state, project))

    # -- time entries -----------------------------------------------------

    def _time_entry(self, request: Request) -> TimeEntryRec:
        entry = self.state.time_entries.get(_id(request))
        if entry is None:
            raise not_found()
        return entry

    async def list_time_entries(self, request: Request) -> Response:
        state = self.state
        query = parse_list_query("time_entries", request.query_params, filters.TIME_ENTRY_SPEC)
        rows = filters.match_entries(state, state.time_entries.values(), query.values)
        page = paginate(
            request,
            "time_entries",
            rows,
            query,
            sort_key=_by_date,
            render=lambda row: render_time_entry(state, row),
        )
        return HarvestJSONResponse(page)

    async def get_time_entry(self, request: Request) -> Response:
        return HarvestJSONResponse(render_time_entry(self.state, self._time_entry(request)))

    async def post_time_entry(self, request: Request) -> Response:
        body = Body(await request.body(), TIME_ENTRY_FIELDS)
        entry = create_time_entry(self.state, body)
        return HarvestJSONResponse(render_time_entry(self.state, entry), status_code=201)

    async def patch_time_entry(self, request: Request) -> Response:
        entry = self._time_entry(request)
        body = Body(await request.body(), TIME_ENTRY_PATCH_FIELDS)
        update_time_entry(self.state, entry, body)
        return HarvestJSONResponse(render_time_entry(self.state, entry))

    async def delete_time_entry(self, request: Request) -> Response:
        entry = self._time_entry(request)
        refuse_if_locked(entry, "time entry")
        del self.state.time_entries[entry.id]
        return Response(status_code=200)

    # -- expenses ---------------------------------------------------------

    def _expense(self, request: Request) -> ExpenseRec:
        expense = self.state.expenses.get(_id(request))
        if expense is None:
            raise not_found()
        return expense

    async def list_expenses(self, request: Request) -> Response:
        state = self.state
        query = parse_list_query("expenses", request.query_params, filters.EXPENSE_SPEC)
        rows = filters.match_entries(state, state.expenses.values(), query.values)
        page = paginate(
            request,
            "expenses",
            rows,
            query,
            sort_key=_by_date,
            render=lambda row: render_expense(state, row),
        )
        return HarvestJSONResponse(page)

    async def get_expense(self, request: Request) -> Response:
        return HarvestJSONResponse(render_expense(self.state, self._expense(request)))

    async def post_expense(self, request: Request) -> Response:
        body = Body(await request.body(), EXPENSE_FIELDS)
        expense = create_expense(self.state, body)
        return HarvestJSONResponse(render_expense(self.state, expense), status_code=201)

    async def patch_expense(self, request: Request) -> Response:
        expense = self._expense(request)
        body = Body(await request.body(), EXPENSE_PATCH_FIELDS)
        update_expense(self.state, expense, body)
        return HarvestJSONResponse(render_expense(self.state, expense))

    async def delete_expense(self, request: Request) -> Response:
        expense = self._expense(request)
        refuse_if_locked(expense, "expense")
        del self.state.expenses[expense.id]
        return Response(status_code=200)

    # -- invoices ---------------------------------------------------------

    async def list_invoices(self, request: Request) -> Response:
        state = self.state
        query = parse_list_query("invoices", request.query_params, INVOICE_SPEC)
        rows = match_invoices(state.invoices.values(), query.values)
        page = paginate(
            request,
            "invoices",
            rows,
            query,
            sort_key=lambda row: (row.issue_date.isoformat(), row.id),
            render=lambda row: render_invoice(state, row),
        )
        return HarvestJSONResponse(page)

    async def get_invoice(self, request: Request) -> Response:
        invoice = self.state.invoices.get(_id(request))
        if invoice is None:
            raise not_found()
        return HarvestJSONResponse(render_invoice(self.state, invoice))

    async def post_invoice(self, request: Request) -> Response:
        body = Body(await request.body(), INVOICE_FIELDS)
        include = self.invoice_imports_unapproved
        invoice = create_invoice(self.state, body, include_unapproved=include)
        return HarvestJSONResponse(render_invoice(self.state, invoice), status_code=201)

    # -- reports ----------------------------------------------------------

    async def get_uninvoiced_report(self, request: Request) -> Response:
        include_unapproved = self.uninvoiced_includes_unapproved
        page = uninvoiced_report(request, self.state, include_unapproved=include_unapproved)
        return HarvestJSONResponse(page)
