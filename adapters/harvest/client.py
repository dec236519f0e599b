"""The Harvest v2 adapter (time & expenses), behind the `TimeTracking` port.

Every call goes through `VendorClient` with Harvest's three headers: a
personal access token (``Authorization: Bearer``), ``Harvest-Account-Id`` and
a ``User-Agent``. The token cannot be refreshed, so a 401 is final.

Rate limit. Harvest allows 100 requests / 15 s per token+account. The
adapter keeps that limit itself (`adapters.harvest.throttle`): every call,
retries included, waits for a free slot of a sliding window (``rate_limit``
calls per ``rate_window_s``, 100 / 15 s by default, ``rate_limit=None`` to
turn it off) before it is sent, so a big batch (150 approvals) is paced
instead of refused half-way. The window is per adapter, i.e. per gateway
replica: with N replicas sharing a token, set ``rate_limit`` to 100 // N.
A 429 that still comes (another client on the token) is retried after its
``Retry-After``, within the resilience policy.

Reports have their own, much stricter limit: 100 / 15 min. Report calls
(``/v2/reports/...``, pages and retries included) also take a slot of a
window of their own (``report_rate_limit`` per ``report_rate_window_s``,
100 / 900 s by default, None to turn it off; per replica, like the other).
A report call waits for its slot only as long as the policy's timeout: a
report minutes later is no use to an interactive caller. Beyond that it is
not sent, and the read serves the last report kept, stale, or, when there
is none, fails with `UpstreamUnavailable` ("Harvest report quota used up;
next slot in N s").

Batch strategy. Harvest has no ``ids=`` filter and no batch endpoint, only
list filters with ``per_page`` up to 2000 and a ``links.next`` cursor that is
followed verbatim until null.

- By engagement: the project directory (below) maps engagement keys to
  projects by ``code``. One project: one ``project_id``-filtered listing.
  Several: the first page of the account-wide listing (same ``from``/``to``/
  ``is_billed`` filters) is fetched; its ``total_pages`` prices the rest,
  and if the remaining pages would cost more calls than one listing per
  project, the adapter switches to per-project listings (concurrently, at
  most `concurrency` in flight). Rows are kept only for the wanted projects.
- By Harvest id: up to 3 ids are read one by one (concurrently); more are
  found in the account-wide listing (newest first): its first page, and the
  remaining pages (fetched concurrently) only when some id is not on it.
  500 ids spread over 20k entries take ``ceil(20k / 2000)`` = 11 calls.
- Pages 2..N are read concurrently by page number and checked against the
  first page; an inconsistent read (rows written meanwhile) is redone by
  the cursor (see `adapters.harvest.listing`).

Uninvoiced work (WIP). Harvest's Reports API sums billable, uninvoiced time
and expenses per project server-side (``GET /v2/reports/uninvoiced``), so a
batch of engagements' WIP costs one report listing over the 365 days to
today (the longest window the report allows), plus the projects listing when
the directory lacks a key, instead of paging every time entry and expense.
The report is not asked for when no key is a Harvest project. Because every
request showing financials wants WIP, and the report limit would be used up
after some 90 of them, the adapter keeps the last full report (all
projects' rows) for ``report_ttl_s`` (default 60 s; ``<= 0`` keeps nothing)
on its ``clock`` and answers every batch from it, filtered to its keys:
WIP may be up to ``report_ttl_s`` old. Reads at the same moment share one
report read in flight; a failed read is not remembered. Approving time
through the adapter drops the report kept (`invalidate_uninvoiced`), as
must whoever posts invoices through the gateway (see
`adapters.harvest.report`).

Project directory. Which projects carry an engagement key's ``code`` is
known only from a ``GET /v2/projects`` listing. The adapter keeps what each
listing shows (engagement key → `ProjectRef`: id, code, name, currency; keys
not on it as absent) for ``directory_ttl_s`` (default 300 s) on its
``clock``, so a warm read costs no listing at all, and reads that need a
listing at the same moment share one in flight: time entries and uninvoiced
work asked for together cost one ``/v2/projects`` call, not two. This is
safe because a project's id, code and client currency rarely change, and
what the directory remembers is at most a TTL old (see
`adapters.harvest.directory`). A ``directory_ttl_s <= 0`` keeps nothing.

Writes. Approval is ``PATCH /v2/time_entries/{id} {"is_closed": true}``
(unverified: Harvest's public API has no approval endpoint); setting it twice
is harmless, so it is retried like a read, and a batch that failed part-way
says which ids failed and may be replayed whole. Rejection (``is_closed:
false``) and expense approval follow the same convention
(`adapters.harvest.approvals`). Marking work invoiced creates a Harvest
invoice that imports it, idempotent by the invoice number
(`adapters.harvest.invoicing`). Creating a time entry is a POST
Harvest cannot deduplicate: the adapter first looks the command's external
reference up (``external_reference_id``) and returns what is there, and never
retries the POST itself.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import httpx

from adapters.harvest.approvals import close_all, harvest_ids
from adapters.harvest.commands import TimeEntryCreate
from adapters.harvest.directory import DEFAULT_TTL_S, ProjectDirectory
from adapters.harvest.errors import SYSTEM, is_throttled, translate_error
from adapters.harvest.invoicing import mark_invoiced
from adapters.harvest.listing import Lister
from adapters.harvest.mapping import (
    ProjectRef,
    expense_from_harvest,
    person_from_harvest,
    project_from_harvest,
    task_id_by_name,
    time_entry_from_harvest,
    time_entry_to_harvest,
    uninvoiced_by_engagement,
)
from adapters.harvest.report import DEFAULT_REPORT_TTL_S, ReportWindow, UninvoicedReport
from adapters.harvest.throttle import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_WINDOW_S,
    DEFAULT_REPORT_RATE_LIMIT,
    DEFAULT_REPORT_RATE_WINDOW_S,
    REPORTS_PREFIX,
    Limit,
    LimitedClient,
    SlidingWindow,
)
from adapters.harvest.wire import Json, decode, encode, rows, total_pages
from adapters.resilience import CircuitBreaker, ResiliencePolicy
from domain.commands import InvoiceMarking
from domain.errors import InvalidInput, NotFound
from domain.health import BreakerState, SystemHealth
from domain.ids import EngagementKey, RecordId
from domain.models import Expense, Person, TimeEntry, UninvoicedWork
from domain.outcomes import MarkedWork
from domain.ports import TimeTracking

__all__ = ["DEFAULT_USER_AGENT", "HarvestAdapter"]

DEFAULT_USER_AGENT = "engagement-gateway (ops@example.com)"
MAX_PAGE_SIZE = 2000
FEW_IDS = 3
REPORT_DAYS = 365  # the Uninvoiced report's longest timeframe


class HarvestAdapter:
    name = SYSTEM

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        account_id: str,
        user_agent: str = DEFAULT_USER_AGENT,
        policy: ResiliencePolicy,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        page_size: int = MAX_PAGE_SIZE,
        concurrency: int = 8,
        today: Callable[[], date] = date.today,
        directory_ttl_s: float = DEFAULT_TTL_S,
        rate_limit: int | None = DEFAULT_RATE_LIMIT,
        rate_window_s: float = DEFAULT_RATE_WINDOW_S,
        report_ttl_s: float = DEFAULT_REPORT_TTL_S,
        report_rate_limit: int | None = DEFAULT_REPORT_RATE_LIMIT,
        report_rate_window_s: float = DEFAULT_REPORT_RATE_WINDOW_S,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        root = base_url.rstrip("/").removesuffix("/v2")
        window = partial(SlidingWindow, clock=clock, sleep=sleep)
        limits: list[Limit] = []
        if report_rate_limit is not None:  # first: a report call waits no longer than this
            reports = window(report_rate_limit, report_rate_window_s, setting="report_rate")
            quota = "Harvest report quota"
            limits.append(Limit(reports, REPORTS_PREFIX, policy.timeout_s, quota))
        if rate_limit is not None:
            limits.append(Limit(window(rate_limit, rate_window_s)))
        self._http = LimitedClient(
            limits=limits,
            system=SYSTEM,
            base_url=root,
            policy=policy,
            translate=translate_error,
            transport=transport,
            headers={
                "Authorization": f"Bearer {token}",
                "Harvest-Account-Id": account_id,
                "User-Agent": user_agent,
                "Accept": "application/json",
            },
            is_throttled=is_throttled,
            sleep=sleep,
            rng=rng,
            breaker=CircuitBreaker.from_policy(policy, clock),
        )
        self._lister = Lister(self._http, page_size=page_size, concurrency=concurrency)
        self._today = today
        self._directory = ProjectDirectory(self._list_projects, ttl_s=directory_ttl_s, clock=clock)
        self._report = UninvoicedReport(self._read_report, ttl_s=report_ttl_s, clock=clock)

    @property
    def breaker_state(self) -> BreakerState:
        return self._http.breaker_state

    async def health(self) -> SystemHealth:
        return await self._http.probe("GET", "/v2/company")

    async def aclose(self) -> None:
        await self._directory.aclose()
        await self._report.aclose()
        await self._http.aclose()

    # -- reads ------------------------------------------------------------

    async def get_time_entries(self, ids: Sequence[RecordId]) -> list[TimeEntry]:
        wanted = harvest_ids(ids)
        if not wanted:
            return []
        by_id: dict[int, Json] = {}
        if len(wanted) <= FEW_IDS:
            found = await self._lister.bounded([self._one_time_entry(i) for i in wanted])
            by_id = {i: obj for i, obj in zip(wanted, found, strict=True) if obj is not None}
        else:
            missing = set(wanted)
            first = await self._lister.first("/v2/time_entries", {})
            pages = [first]
            if not missing.issubset(obj.get("id") for obj in rows(first, "time_entries")):
                pages = await self._lister.pages("/v2/time_entries", "time_entries", {}, first)
            for page in pages:
                for obj in rows(page, "time_entries"):
                    if obj.get("id") in missing:
                        missing.discard(obj["id"])
                        by_id[obj["id"]] = obj
        return [time_entry_from_harvest(by_id[i]) for i in wanted if i in by_id]

    async def get_time_entries_by_engagement(
        self,
        keys: Sequence[EngagementKey],
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        billed: bool | None = None,
    ) -> list[TimeEntry]:
        filters = _window(date_from, date_to)
        if billed is not None:
            filters["is_billed"] = "true" if billed else "false"
        found = await self._by_projects("/v2/time_entries", "time_entries", keys, filters)
        return [time_entry_from_harvest(obj) for obj in found]

    async def get_expenses_by_engagement(
        self,
        keys: Sequence[EngagementKey],
        *,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[Expense]:
        filters = _window(date_from, date_to)
        found = await self._by_projects("/v2/expenses", "expenses", keys, filters)
        return [expense_from_harvest(obj) for obj in found]

    async def get_uninvoiced(self, keys: Sequence[EngagementKey]) -> list[UninvoicedWork]:
        """WIP of the 365 days to today, from the Uninvoiced report (see the module docstring).

        The report is the one kept if it is under ``report_ttl_s`` old (or, when
        the report quota has no slot within the policy's timeout, however old).
        """
        projects = await self._projects_by_code(keys) if keys else []
        if not projects:
            return []
        end = self._today()
        start = end - timedelta(days=REPORT_DAYS - 1)
        rows = await self._report.rows((f"{start:%Y%m%d}", f"{end:%Y%m%d}"))
        found = uninvoiced_by_engagement(rows, {p.id: p for p in projects})
        return [found[key] for key in dict.fromkeys(keys) if key in found]

    async def time_entries_changed_since(self, since: datetime) -> list[TimeEntry]:
        """The inbound sync's poll: every entry with ``updated_since`` `since` (to the second,
        inclusive), all pages. Harvest has no sort by update: the caller orders them."""
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        found = await self._lister.all("/v2/time_entries", "time_entries", {"updated_since": stamp})
        return [time_entry_from_harvest(obj) for obj in found]

    async def list_people(self) -> list[Person]:
        """Every Harvest user (one listing); ids are the ``person_id`` of time entries."""
        return [
            person_from_harvest(obj) for obj in await self._lister.all("/v2/users", "users", {})
        ]

    def invalidate_uninvoiced(self) -> None:
        """Drop the Uninvoiced report kept: the next `get_uninvoiced` reads it from Harvest.

        Call it after changing what is uninvoiced through this gateway:
        `approve_time_entries` calls it itself; whoever posts invoices (or
        otherwise bills time or expenses) must call it once they are posted.
        Changes made in Harvest directly are seen within ``report_ttl_s``.
        """
        self._report.invalidate()

    # -- writes -----------------------------------------------------------

    async def approve_time_entries(self, ids: Sequence[RecordId]) -> list[TimeEntry]:
        """Approve every entry (one PATCH each, paced by the rate limit); return them approved.

        Every approval is attempted. If some fail, the error raised (of the
        first failure's type, in id order, with its status and vendor detail)
        says how many were approved and lists the ids that failed (a timed-out
        one may have been applied all the same); the others are approved.
        Approval is idempotent (closing a closed entry changes nothing), so
        retrying the whole call with the same ids is safe, and is the way to
        finish the batch.
        """
        found = await close_all(
            self._http,
            self._lister,
            "time_entries",
            ids,
            closed=True,
            on_change=self.invalidate_uninvoiced,  # approved time is uninvoiced work now
        )
        return [time_entry_from_harvest(obj) for obj in found]

    async def reject_time_entries(self, ids: Sequence[RecordId], reason: str) -> list[TimeEntry]:
        """Send submitted entries back (``is_closed: false``); see `adapters.harvest.approvals`.

        Harvest has no field for the reason, so `reason` is not sent: the caller keeps it.
        """
        if not reason.strip():
            raise InvalidInput("a rejection needs a reason")
        found = await close_all(
            self._http, self._lister, "time_entries", ids, closed=False, on_change=lambda: None
        )
        return [time_entry_from_harvest(obj) for obj in found]

    async def approve_expenses(self, ids: Sequence[RecordId]) -> list[Expense]:
        """Approve expenses (``is_closed: true``); approved expenses become uninvoiced work."""
        found = await close_all(
            self._http,
            self._lister,
            "expenses",
            ids,
            closed=True,
            on_change=self.invalidate_uninvoiced,
        )
        return [expense_from_harvest(obj) for obj in found]

    async def mark_invoiced(self, command: InvoiceMarking) -> MarkedWork:
        """Invoice the engagement's approved work of the window in Harvest, once per number."""
        projects = await self._projects_by_code([command.engagement_key])
        if not projects:
            raise NotFound(f"no Harvest project has code {command.engagement_key}", system=SYSTEM)
        try:
            return await mark_invoiced(self._http, self._lister, projects[0], command)
        finally:
            self.invalidate_uninvoiced()  # whatever happened, what is uninvoiced may have changed

    async def create_time_entry(self, command: TimeEntryCreate) -> TimeEntry:
        """Create once: a replay of the same `external_ref` returns the existing entry."""
        existing = await self._lister.all(
            "/v2/time_entries", "time_entries", {"external_reference_id": command.external_ref}
        )
        if existing:
            return time_entry_from_harvest(existing[0])
        projects = await self._projects_by_code([command.engagement_key])
        if not projects:
            raise NotFound(f"no Harvest project has code {command.engagement_key}", system=SYSTEM)
        task_id = task_id_by_name(await self._lister.all("/v2/tasks", "tasks", {}), command.task)
        if task_id is None:
            raise NotFound(f"no Harvest task is named {command.task!r}", system=SYSTEM)
        body = time_entry_to_harvest(command, project_id=projects[0].id, task_id=task_id)
        response = await self._http.request(
            "POST",
            "/v2/time_entries",
            content=encode(body),
            headers={"Content-Type": "application/json"},
            idempotent=False,
        )
        return time_entry_from_harvest(decode(response))

    # -- plumbing ---------------------------------------------------------

    async def _one_time_entry(self, entry_id: int) -> Json | None:
        try:
            return decode(await self._http.request("GET", f"/v2/time_entries/{entry_id}"))
        except NotFound:
            return None

    async def _projects_by_code(self, keys: Iterable[str]) -> list[ProjectRef]:
        """The projects coded with `keys`, in key order, from the project directory."""
        return await self._directory.projects(keys)

    async def _read_report(self, window: ReportWindow) -> list[Json]:
        """Every row of the Uninvoiced report for `window`: one listing, which the report keeps."""
        params = {"from": window[0], "to": window[1]}
        return await self._lister.all(f"{REPORTS_PREFIX}uninvoiced", "results", params)

    async def _list_projects(self) -> list[ProjectRef]:
        """Every project of the account: one listing, which the directory shares."""
        listing = await self._lister.all("/v2/projects", "projects", {})
        return [project_from_harvest(obj) for obj in listing]

    async def _by_projects(
        self, path: str, key: str, keys: Sequence[EngagementKey], filters: dict[str, str]
    ) -> list[Json]:
        """Rows of the engagements' projects; see the module docstring for the strategy."""
        projects = await self._projects_by_code(keys) if keys else []
        if not projects:
            return []
        if len(projects) > 1:
            first = await self._lister.first(path, filters)
            if total_pages(first) - 1 <= len(projects):  # account-wide is no dearer
                pages = await self._lister.pages(path, key, filters, first)
                wanted = {p.id for p in projects}
                return [
                    obj for page in pages for obj in rows(page, key) if _project_id(obj) in wanted
                ]
        lister = self._lister
        listings = await lister.bounded(
            [lister.all(path, key, {**filters, "project_id": str(p.id)}) for p in projects]
        )
        return [obj for listing in listings for obj in listing]


def _window(date_from: date | None, date_to: date | None) -> dict[str, str]:
    window: dict[str, str] = {}
    if date_from is not None:
        window["from"] = date_from.isoformat()
    if date_to is not None:
        window["to"] = date_to.isoformat()
    return window


def _project_id(obj: Json) -> Any:
    project = obj.get("project")
    return project.get("id") if isinstance(project, dict) else None


def _satisfies_port(adapter: HarvestAdapter) -> TimeTracking:
    return adapter  # mypy proves HarvestAdapter structurally satisfies TimeTracking
