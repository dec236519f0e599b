"""The two ways the Kantata adapter's write helpers talk to the API (see `KantataAdapter`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from adapters.kantata.envelope import Envelope, Record
from domain.errors import UpstreamUnavailable
from domain.ids import EngagementKey

__all__ = ["Call", "Listing", "WorkspaceOf", "post_or_find"]


class Call(Protocol):
    """One request, its answer parsed as an envelope."""

    async def __call__(
        self,
        method: str,
        resource: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Envelope: ...


class Listing(Protocol):
    """Every page of a listing, absorbed into one envelope."""

    async def __call__(self, resource: str, params: dict[str, Any]) -> Envelope: ...


WorkspaceOf = Callable[[EngagementKey], Awaitable[Record | None]]
"""The workspace linked to an engagement key, looked up afresh (None: no project)."""


async def post_or_find(
    call: Call,
    resource: str,
    body: dict[str, Any],
    find: Callable[[], Awaitable[Record | None]],
) -> Record:
    """POST once (never retried blindly: Kantata has no idempotency key); when the answer
    is lost (5xx, timeout) look for what the POST may have created before giving up."""
    try:
        created = await call("POST", resource, json=body, idempotent=False)
    except UpstreamUnavailable:
        found = await find()
        if found is None:
            raise
        return found
    return created.first(resource)
