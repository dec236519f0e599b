"""Kantata's in-memory tables, id sequences and write clock.

Records are stored in the vendor's own JSON shape (minus association id
fields, which appear only when included). Ids are numeric strings taken from
a per-type sequence (`ID_BASES`), so ids of different types never collide
and the same firm always gives the same ids; records created at runtime
continue each type's sequence. Writes take their ``updated_at`` from the wall
clock, to the second, as Kantata stamps them, kept strictly after every earlier
stamp (seeded ones too): clients poll ``updated_after`` a watermark taken from
their own clock, so the sandbox's stamps must be real time, and each write moves
its record forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

__all__ = [
    "ACCOUNT_ID",
    "GATEWAY_SERVICE_MODEL",
    "GATEWAY_SERVICE_NAME",
    "ID_BASES",
    "MILESTONE_SERVICE_MODEL",
    "STATUSES",
    "KantataState",
    "cents",
    "stamp",
    "weekdays",
]

ACCOUNT_ID = "4201"
GATEWAY_SERVICE_NAME = "engagement-gateway"
GATEWAY_SERVICE_MODEL = "engagement"
MILESTONE_SERVICE_MODEL = "milestone"

# First id of each record type; ids of different types never collide.
ID_BASES: dict[str, int] = {
    "workspaces": 310001,
    "users": 520001,
    "roles": 7001,
    "workspace_resources": 630001,
    "workspace_allocations": 740001,
    "stories": 850001,
    "external_references": 960001,
    "rate_card_sets": 1101,
    "rate_card_set_versions": 2201,
    "rate_card_roles": 3301,
}

# Workspace statuses by key (the key/colour catalogue is unverified; 310 "Active"
# is the example in vendor-apis.md §2).
STATUSES: dict[int, dict[str, Any]] = {
    100: {"color": "grey", "key": 100, "message": "Not Started"},
    110: {"color": "grey", "key": 110, "message": "In Planning"},
    310: {"color": "green", "key": 310, "message": "Active"},
    320: {"color": "yellow", "key": 320, "message": "On Hold"},
    410: {"color": "blue", "key": 410, "message": "Completed"},
    420: {"color": "red", "key": 420, "message": "Cancelled"},
}


def stamp(moment: datetime) -> str:
    """Kantata's ISO-8601 timestamp with an explicit offset."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def cents(amount: Decimal) -> int:
    """An amount in major units as integer cents (half-even for sub-cent input)."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def weekdays(start: date, end: date) -> int:
    if end < start:
        return 0
    days = (end - start).days + 1
    full_weeks, rest = divmod(days, 7)
    count = full_weeks * 5
    for offset in range(rest):
        if (start + timedelta(days=full_weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


@dataclass(slots=True)
class KantataState:
    """All tables plus the id sequences and the write clock (the last stamp given)."""

    tables: dict[str, dict[str, dict[str, Any]]]
    next_ids: dict[str, int]
    clock: datetime
    me_user_id: str | None = None

    def table(self, key: str) -> dict[str, dict[str, Any]]:
        return self.tables[key]

    def mint(self, key: str) -> str:
        value = self.next_ids[key]
        self.next_ids[key] = value + 1
        return str(value)

    def tick(self) -> str:
        """A write's ``updated_at``: now, to the second, strictly after every earlier stamp."""
        now = datetime.now(UTC).replace(microsecond=0)
        self.clock = max(now, self.clock + timedelta(seconds=1))
        return stamp(self.clock)
