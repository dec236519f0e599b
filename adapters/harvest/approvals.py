"""Approving and rejecting time and expenses in Harvest, one PATCH per record.

Harvest's public API has no approval endpoint; the convention (unverified) is
``PATCH /v2/{time_entries|expenses}/{id} {"is_closed": true}`` to approve
and ``{"is_closed": false}`` to send a submitted record back (reject). Both
set a state, so both are retried like reads and a batch may be replayed
whole. Harvest refuses approved-and-locked or billed records with 422
``{"message"}``, which the adapter raises as `UpstreamRejected` carrying it.
Every record is attempted; if some fail, one error (of the first failure's
type, with its status and vendor detail) names the ids that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from adapters.harvest.listing import Lister
from adapters.harvest.wire import Json, decode, encode
from adapters.http import VendorClient
from domain.errors import AdapterError, CircuitOpen, InvalidInput, UpstreamUnavailable
from domain.ids import RecordId

__all__ = ["close_all", "harvest_ids", "may_have_applied"]


def harvest_ids(ids: Iterable[RecordId]) -> list[int]:
    """Distinct Harvest ids in the caller's order; a non-numeric id is invalid input."""
    result: dict[int, None] = {}
    for raw in ids:
        text = str(raw).strip()
        if not (text.isascii() and text.isdigit()):
            raise InvalidInput(f"not a Harvest id: {raw!r}")
        result[int(text)] = None
    return list(result)


def may_have_applied(outcome: Json | BaseException) -> bool:
    """A write that succeeded, or failed in a way that may hide a success (a timeout)."""
    if isinstance(outcome, dict):
        return True
    return isinstance(outcome, UpstreamUnavailable) and not isinstance(outcome, CircuitOpen)


async def _set_closed(http: VendorClient, resource: str, record_id: int, closed: bool) -> Json:
    response = await http.request(
        "PATCH",
        f"/v2/{resource}/{record_id}",
        content=encode({"is_closed": closed}),
        headers={"Content-Type": "application/json"},
        idempotent=True,  # sets a state: a replay changes nothing
    )
    return decode(response)


_NOUNS = {"approved": "Approval", "rejected": "Rejection"}


def _partial(
    verb: str, what: str, asked: int, failed: Sequence[tuple[int, BaseException]]
) -> BaseException:
    first = failed[0][1]
    for _, outcome in failed:
        if not isinstance(outcome, Exception):
            return outcome  # cancellation and the like: not a vendor answer
    if not isinstance(first, AdapterError):
        return first
    ids = ", ".join(str(i) for i, _ in failed)
    detail = first.args[0] if first.args else type(first).__name__
    error = type(first)(
        f"{verb} {asked - len(failed)} of {asked} {what}; {len(failed)} failed (ids {ids}); "
        f"first failure: {detail}. {_NOUNS[verb]} is idempotent: retry the whole call",
        system=first.system,
        status=first.status,
        vendor_code=first.vendor_code,
        vendor_message=first.vendor_message,
    )
    error.__cause__ = first
    return error


async def close_all(
    http: VendorClient,
    lister: Lister,
    resource: str,
    ids: Sequence[RecordId],
    *,
    closed: bool,
    on_change: Callable[[], None],
) -> list[Json]:
    """PATCH ``is_closed`` on every record and return them; `on_change` runs first when any
    may have changed (before a partial failure is raised)."""
    wanted = harvest_ids(ids)
    outcomes = await lister.settled([_set_closed(http, resource, i, closed) for i in wanted])
    if any(may_have_applied(o) for o in outcomes):
        on_change()
    failed = [(i, o) for i, o in zip(wanted, outcomes, strict=True) if not isinstance(o, dict)]
    if failed:
        verb = "approved" if closed else "rejected"
        raise _partial(verb, resource.replace("_", " "), len(wanted), failed)
    return [o for o in outcomes if isinstance(o, dict)]
