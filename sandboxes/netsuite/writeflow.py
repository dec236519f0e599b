"""How a write is answered: sync 204 + Location, async 202 + job, idempotent replays.

- Sync: the operation runs; 204 with ``Location`` of the record (POST, PUT).
- ``Prefer: respond-async``: the operation runs at once inside an async job
  (the sandbox completes jobs immediately); 202 with ``Location`` of the job.
- ``X-NetSuite-Idempotency-Key``: a key seen before never runs the operation
  again. A sync replay answers 204 with the **same** Location; an async
  replay answers 400 IDEMPOTENCY_ERROR with ``Location`` of the original job
  (or record). A sync request that failed leaves no trace, so a later retry
  with the same key runs afresh.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from sandboxes.netsuite.errors import NsError, problem_body
from sandboxes.netsuite.render import record_path
from sandboxes.netsuite.requests import base_url, idempotency_key, prefers
from sandboxes.netsuite.state import AsyncJob, IdempotentOutcome, Record, Store
from sandboxes.netsuite.userevents import UserEvents

__all__ = ["ASYNC_ROOT", "WriteFlow", "job_path"]

ASYNC_ROOT = "/services/rest/async/v1/job"


def job_path(job_id: str) -> str:
    return f"{ASYNC_ROOT}/{job_id}"


class WriteFlow:
    def __init__(self, store_of: Callable[[], Store], events: UserEvents | None = None) -> None:
        self._store_of = store_of
        self._events = events  # the User Event script's afterSubmit notices

    def run(
        self,
        request: Request,
        operation: Callable[[Store], Record],
        record_type: str,
        *,
        location: bool = True,
    ) -> Response:
        store = self._store_of()
        if self._events is not None:
            operation = self._events.around(request, record_type, operation)
        key = idempotency_key(request)
        is_async = prefers(request, "respond-async")
        base = base_url(request)
        seen = store.idempotency.get(key) if key is not None else None
        if seen is not None:
            if is_async:
                target = job_path(seen.job_id) if seen.job_id else seen.location
                raise NsError(
                    400,
                    "IDEMPOTENCY_ERROR",
                    f"A request with the idempotency key '{key}' has already been received.",
                    headers={"Location": base + (target or "")},
                )
            if seen.location is not None:
                headers = {"Location": base + seen.location} if location else {}
                return Response(status_code=204, headers=headers)
        if is_async:
            return self._run_async(request, store, operation, record_type, key)
        record = operation(store)
        path = record_path(record_type, record["id"])
        if key is not None:
            store.idempotency[key] = IdempotentOutcome(path)
        return Response(status_code=204, headers={"Location": base + path} if location else {})

    def _run_async(
        self,
        request: Request,
        store: Store,
        operation: Callable[[Store], Record],
        record_type: str,
        key: str | None,
    ) -> Response:
        job_id = store.mint_job()
        job = AsyncJob(job_id, request.method, request.url.path, 204, None)
        try:
            record = operation(store)
        except NsError as exc:
            job.status = exc.status
            job.error = problem_body(exc.status, exc.code, exc.detail, exc.path)
        else:
            job.location = record_path(record_type, record["id"])
        store.jobs[job_id] = job
        if key is not None:
            store.idempotency[key] = IdempotentOutcome(job.location, job_id)
        return Response(status_code=202, headers={"Location": base_url(request) + job_path(job_id)})
