"""Async job service: ``/services/rest/async/v1/job/{id}[/task[/{task}[/result]]]``.

A job body is ``{"links", "id", "completed", "progress"}`` with ``progress``
``succeeded`` or ``failed``; when the job created or changed a record, its
links include ``{"rel": "related", "href": <record URL>}`` (sandbox
convenience). Each job has one task (same id); the task's ``result``
replays the original answer: 204 + ``Location``, or the problem JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.netsuite.errors import NsError
from sandboxes.netsuite.jsonio import resource_response
from sandboxes.netsuite.requests import base_url
from sandboxes.netsuite.state import AsyncJob, Store
from sandboxes.netsuite.writeflow import ASYNC_ROOT, job_path

__all__ = ["async_routes"]


def async_routes(
    store_of: Callable[[], Store], authenticate: Callable[[Request], None]
) -> list[Route]:
    def job_of(request: Request) -> AsyncJob:
        authenticate(request)
        job = store_of().jobs.get(request.path_params["job"])
        task = request.path_params.get("task")
        if job is None or (task is not None and task != job.id):
            raise NsError(
                404, "NONEXISTENT_ID", "The async job or task does not exist. Provide a valid ID."
            )
        return job

    def status(job: AsyncJob, href: str, base: str) -> dict[str, Any]:
        links = [{"rel": "self", "href": href}]
        if job.location is not None:
            links.append({"rel": "related", "href": base + job.location})
        return {
            "links": links,
            "id": job.id,
            "completed": True,
            "progress": "succeeded" if job.error is None else "failed",
        }

    async def get_job(request: Request) -> Response:
        job = job_of(request)
        base = base_url(request)
        return resource_response(status(job, base + job_path(job.id), base))

    async def list_tasks(request: Request) -> Response:
        job = job_of(request)
        base = base_url(request)
        href = f"{base}{job_path(job.id)}/task"
        item = {"links": [{"rel": "self", "href": f"{href}/{job.id}"}], "id": job.id}
        body = {
            "links": [{"rel": "self", "href": href}],
            "count": 1,
            "hasMore": False,
            "items": [item],
            "offset": 0,
            "totalResults": 1,
        }
        return resource_response(body, kind="collection")

    async def get_task(request: Request) -> Response:
        job = job_of(request)
        base = base_url(request)
        return resource_response(status(job, f"{base}{job_path(job.id)}/task/{job.id}", base))

    async def get_result(request: Request) -> Response:
        job = job_of(request)
        if job.error is not None:
            return resource_response(job.error, kind="error", status=job.status)
        headers = {"Location": base_url(request) + job.location} if job.location else {}
        return Response(status_code=job.status, headers=headers)

    return [
        Route(f"{ASYNC_ROOT}/{{job}}", get_job, methods=["GET"]),
        Route(f"{ASYNC_ROOT}/{{job}}/task", list_tasks, methods=["GET"]),
        Route(f"{ASYNC_ROOT}/{{job}}/task/{{task}}", get_task, methods=["GET"]),
        Route(f"{ASYNC_ROOT}/{{job}}/task/{{task}}/result", get_result, methods=["GET"]),
    ]
