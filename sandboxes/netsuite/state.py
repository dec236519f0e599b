"""The sandbox account's data: records by type, external-ID indexes, id minting.

Records are plain dicts holding internal values (ids of references as
strings, dates as `date`, amounts as `Decimal`, sublists as lists of dicts).
Ids are minted deterministically: entities (customer, job) share one
sequence, transactions (invoice, customerPayment) another, every other type
has its own. `stamp()` is a logical clock: each write gets a modstamp
strictly later than every earlier one (wall clock when it is ahead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandboxes.netsuite.schema import SPECS

__all__ = ["AsyncJob", "IdempotentOutcome", "Record", "Store"]

Record = dict[str, Any]

_SEQUENCE_START = {
    "entity": 2001,
    "transaction": 90001,
    "account": 120,
    "serviceItem": 501,
}


@dataclass(slots=True)
class IdempotentOutcome:
    """What a request carrying an idempotency key produced (paths, not URLs)."""

    location: str | None  # None: an async job whose operation failed
    job_id: str | None = None


@dataclass(slots=True)
class AsyncJob:
    id: str
    method: str
    path: str
    status: int  # the status of the underlying operation
    location: str | None  # the record the job created or changed
    error: dict[str, Any] | None = None  # problem body when the operation failed


@dataclass(slots=True)
class Store:
    records: dict[str, dict[str, Record]] = field(
        default_factory=lambda: {name: {} for name in SPECS}
    )
    external: dict[str, dict[str, str]] = field(
        default_factory=lambda: {name: {} for name in SPECS}
    )
    sequences: dict[str, int] = field(default_factory=dict)
    idempotency: dict[str, IdempotentOutcome] = field(default_factory=dict)
    jobs: dict[str, AsyncJob] = field(default_factory=dict)
    version: int = 0
    cache: dict[str, tuple[int, Any]] = field(default_factory=dict)  # derived views
    last_stamp: datetime = datetime(2000, 1, 1, tzinfo=UTC)

    # --- ids and clock -------------------------------------------------------

    def mint(self, record_type: str) -> str:
        space = SPECS[record_type].id_space
        key = record_type if space == "own" else space
        current = self.sequences.get(key, _SEQUENCE_START.get(key, 1))
        self.sequences[key] = current + 1
        return str(current)

    def mint_job(self) -> str:
        current = self.sequences.get("asyncJob", 1)
        self.sequences["asyncJob"] = current + 1
        return str(current)

    def stamp(self) -> datetime:
        now = datetime.now(UTC).replace(microsecond=0)
        nxt = max(now, self.last_stamp + timedelta(seconds=1))
        self.last_stamp = nxt
        return nxt

    def note_stamp(self, value: datetime) -> None:
        """Seeding: keep the clock ahead of every seeded modstamp."""
        self.last_stamp = max(self.last_stamp, value)

    # --- access --------------------------------------------------------------

    def get(self, record_type: str, record_id: str) -> Record | None:
        return self.records[record_type].get(record_id)

    def by_external(self, record_type: str, external_id: str) -> Record | None:
        record_id = self.external[record_type].get(external_id)
        return None if record_id is None else self.records[record_type][record_id]

    def find(self, types: tuple[str, ...], record_id: str) -> tuple[str, Record] | None:
        for record_type in types:
            record = self.records[record_type].get(record_id)
            if record is not None:
                return record_type, record
        return None

    def all(self, record_type: str) -> list[Record]:
        return list(self.records[record_type].values())

    # --- changes -------------------------------------------------------------

    def insert(self, record_type: str, record: Record) -> None:
        self.records[record_type][record["id"]] = record
        external_id = record.get("externalId")
        if external_id is not None:
            self.external[record_type][external_id] = record["id"]
        self.version += 1

    def reindex_external(self, record_type: str, record: Record, old: str | None) -> None:
        if old is not None:
            self.external[record_type].pop(old, None)
        new = record.get("externalId")
        if new is not None:
            self.external[record_type][new] = record["id"]

    def remove(self, record_type: str, record: Record) -> None:
        del self.records[record_type][record["id"]]
        external_id = record.get("externalId")
        if external_id is not None:
            self.external[record_type].pop(external_id, None)
        self.version += 1

    def touched(self) -> None:
        self.version += 1

    # --- display -------------------------------------------------------------

    def ref_name(self, record_type: str, record_id: str) -> str:
        record = self.records[record_type].get(record_id)
        if record is None:
            return record_id
        if record_type == "customer":
            entity_id, company = record.get("entityId"), record.get("companyName", "")
            return company if not entity_id or entity_id == company else f"{entity_id} {company}"
        if record_type == "job":
            parent = record.get("parent")
            own = record.get("companyName", "")
            return f"{self.ref_name('customer', parent)} : {own}" if parent else own
        if record_type == "invoice":
            return f"Invoice #{record.get('tranId', record_id)}"
        if record_type == "customerPayment":
            return f"Payment #{record.get('tranId', record_id)}"
        if record_type == "account":
            return str(record.get("acctName", record_id))
        if record_type == "serviceItem":
            return str(record.get("itemId", record_id))
        return str(record.get("name", record_id))
