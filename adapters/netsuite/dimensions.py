"""NetSuite's financial dimensions by natural code: departments, classes, locations.

Three SuiteQL reads (``department``, ``classification``, ``location``); the
natural code is the record's ``externalid`` (how the firm's codes are kept
in the ERP), falling back to its ``name`` when a record has none. A location
also names its subsidiary.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.netsuite.mapping import Row
from domain.ids import RecordId
from domain.outcomes import Dimensions, LocationDimension

__all__ = ["CLASSES", "DEPARTMENTS", "LOCATIONS", "dimensions_from"]

DEPARTMENTS = "SELECT id, externalid, name FROM department ORDER BY id"
CLASSES = "SELECT id, externalid, name FROM classification ORDER BY id"
LOCATIONS = "SELECT id, externalid, name, subsidiary FROM location ORDER BY id"


def _code(row: Row) -> str:
    return str(row.get("externalid") or row["name"])


def dimensions_from(
    departments: Sequence[Row], classes: Sequence[Row], locations: Sequence[Row]
) -> Dimensions:
    return Dimensions(
        departments={_code(r): RecordId(str(r["id"])) for r in departments},
        classes={_code(r): RecordId(str(r["id"])) for r in classes},
        locations={
            _code(r): LocationDimension(
                id=RecordId(str(r["id"])),
                subsidiary_id=RecordId(str(r["subsidiary"])) if r.get("subsidiary") else None,
            )
            for r in locations
        },
    )
