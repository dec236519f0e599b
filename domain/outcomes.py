"""What some port calls return besides the canonical models: ERP financial
dimensions (reference data) and the work an invoice marking covered."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.ids import EngagementKey, RecordId

__all__ = ["Dimensions", "LocationDimension", "MarkedWork"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocationDimension(_Frozen):
    id: RecordId
    subsidiary_id: RecordId | None


class Dimensions(_Frozen):
    """The ERP's financial dimensions by natural code (e.g. ``CONS``, ``CL-CLOUD``,
    ``NYC``) -> ERP id; a location also names the subsidiary it belongs to."""

    departments: dict[str, RecordId]
    classes: dict[str, RecordId]
    locations: dict[str, LocationDimension]


class MarkedWork(_Frozen):
    """The time-tracking invoice that marks work invoiced, and what carries it.

    `time_entry_ids` / `expense_ids` are every record carrying the invoice
    afterwards (not only those this call marked); `created` says whether this
    call created the invoice (False on a replay).
    """

    engagement_key: EngagementKey
    invoice_id: RecordId
    number: str
    time_entry_ids: tuple[RecordId, ...]
    expense_ids: tuple[RecordId, ...]
    created: bool
