"""The org's data: records per sObject, external-id indexes and the modstamp clock.

Records are plain dicts keyed by API field name, holding Python values
(str, bool, Decimal, date, aware datetime, None). `OrgState.reset()` rebuilds
the seeded data from the firm; everything written afterwards lives in memory
until the next reset.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sandboxes.firm import Firm
from sandboxes.salesforce.ids import IdMinter, is_valid_id, to_18
from sandboxes.salesforce.schema import SCHEMAS, SObjectSchema

__all__ = ["OrgState", "Record"]

Record = dict[str, Any]
_TICK = timedelta(milliseconds=1)


class OrgState:
    """All records of the sandbox org, rebuilt from the firm on `reset`."""

    def __init__(self, firm: Firm, *, seed: int, clock: Callable[[], datetime]) -> None:
        self.firm = firm
        self.seed = seed
        self._clock = clock
        self.tables: dict[str, dict[str, Record]] = {}
        self._external: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.ids = IdMinter(firm.seed + seed)
        self.integration_user_id = ""
        self._last_stamp = datetime.min.replace(tzinfo=UTC)
        # Told of every DML write (Change Data Capture, sandboxes/salesforce/cdc.py).
        self.on_change: Callable[[SObjectSchema, Record, str, Record | None], None] | None = None
        self.reset()

    def reset(self) -> None:
        from sandboxes.salesforce.from_firm import load_firm

        self.tables = {schema.name: {} for schema in SCHEMAS.values()}
        self._external = {
            (schema.name, f.name): {}
            for schema in SCHEMAS.values()
            for f in schema.fields
            if f.external_id
        }
        self.ids = IdMinter(self.firm.seed + self.seed)
        self._last_stamp = datetime.min.replace(tzinfo=UTC)
        self.integration_user_id = load_firm(self, self.firm)

    def snapshot(self) -> object:
        """Everything a rolled-back batch must restore (see `restore`)."""
        return copy.deepcopy((self.tables, self._external, self.ids, self._last_stamp))

    def restore(self, snapshot: object) -> None:
        self.tables, self._external, self.ids, self._last_stamp = snapshot  # type: ignore[misc]

    # -- clock ---------------------------------------------------------------
    def now(self) -> datetime:
        """The stamp of a write: wall clock to the millisecond, strictly increasing."""
        current = self._clock().astimezone(UTC)
        current = current.replace(microsecond=current.microsecond // 1000 * 1000)
        stamp = max(current, self._last_stamp + _TICK)
        self._last_stamp = stamp
        return stamp

    def observe_stamp(self, stamp: datetime) -> None:
        """Seeded stamps count as past writes, so later writes are stamped after them."""
        self._last_stamp = max(self._last_stamp, stamp)

    def changed(
        self, schema: SObjectSchema, record: Record, change_type: str, before: Record | None = None
    ) -> None:
        """A DML write happened (CREATE / UPDATE with its `before` image / DELETE)."""
        if self.on_change is not None:
            self.on_change(schema, record, change_type, before)

    # -- records -------------------------------------------------------------
    def table(self, schema: SObjectSchema) -> dict[str, Record]:
        return self.tables[schema.name]

    def records(self, schema: SObjectSchema, *, include_deleted: bool = False) -> Iterator[Record]:
        for record in self.tables[schema.name].values():
            if include_deleted or not record.get("IsDeleted", False):
                yield record

    def get(
        self, schema: SObjectSchema, record_id: str, *, include_deleted: bool = False
    ) -> Record | None:
        if not is_valid_id(record_id):
            return None
        record = self.tables[schema.name].get(to_18(record_id))
        if record is None or (record.get("IsDeleted", False) and not include_deleted):
            return None
        return record

    def find(self, record_id: str) -> tuple[SObjectSchema, Record] | None:
        """Any live record by id, whatever its type (for relationship lookups)."""
        if not is_valid_id(record_id):
            return None
        full = to_18(record_id)
        for schema in SCHEMAS.values():
            if full[:3] == schema.key_prefix:
                record = self.tables[schema.name].get(full)
                if record is not None and not record.get("IsDeleted", False):
                    return schema, record
        return None

    def insert(self, schema: SObjectSchema, record: Record) -> None:
        self.tables[schema.name][record["Id"]] = record
        for (name, field_name), index in self._external.items():
            if name == schema.name and record.get(field_name) is not None:
                index.setdefault(str(record[field_name]).lower(), []).append(record["Id"])

    def set_field(self, schema: SObjectSchema, record: Record, field_name: str, value: Any) -> None:
        """Assign one field, keeping the external-id index current."""
        index = self._external.get((schema.name, field_name))
        old = record.get(field_name)
        if index is not None and old is not None:
            ids = index.get(str(old).lower(), [])
            if record["Id"] in ids:
                ids.remove(record["Id"])
        record[field_name] = value
        if index is not None and value is not None:
            index.setdefault(str(value).lower(), []).append(record["Id"])

    def by_external_id(self, schema: SObjectSchema, field_name: str, value: str) -> list[Record]:
        """Live records whose external-id field equals `value` (case-insensitive)."""
        index = self._external.get((schema.name, field_name), {})
        found = []
        for record_id in index.get(value.lower(), []):
            record = self.tables[schema.name][record_id]
            if not record.get("IsDeleted", False):
                found.append(record)
        return found
