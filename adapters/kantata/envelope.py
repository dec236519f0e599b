"""Kantata's response envelope, parsed with Decimal for every JSON number.

``results`` lists the primary records in order as ``{key, id}``; the
per-type maps (keyed by string id) hold them plus anything side-loaded with
``include=``. Pages of one listing are absorbed into one `Envelope`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import InvalidOperation
from typing import Any

from adapters.jsonwire import decode
from domain.errors import MappingFailed

__all__ = ["SYSTEM", "Envelope", "Record", "mapping", "mapping_failures", "parse_envelope"]

SYSTEM = "kantata"

Record = dict[str, Any]


@contextmanager
def mapping(what: str) -> Iterator[None]:
    """Turn any shape surprise while mapping `what` into MappingFailed."""
    try:
        yield
    except MappingFailed:
        raise
    except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as exc:
        raise MappingFailed(f"cannot map {what}: {exc!r}", system=SYSTEM) from exc


mapping_failures = mapping  # the same, under a name that does not shadow the module


@dataclass(slots=True)
class Envelope:
    results: list[tuple[str, str]] = field(default_factory=list)
    maps: dict[str, dict[str, Record]] = field(default_factory=dict)
    page_number: int = 1
    page_count: int = 0

    def records(self, key: str) -> list[Record]:
        """Primary records of type `key`, in ``results`` order."""
        return [self.maps[k][i] for k, i in self.results if k == key]

    def first(self, key: str) -> Record:
        """The single primary record of a show/write answer."""
        records = self.records(key)
        if not records:
            raise MappingFailed(f"expected a {key} record in the answer", system=SYSTEM)
        return records[0]

    def get(self, key: str, record_id: object) -> Record | None:
        return self.maps.get(key, {}).get(str(record_id)) if record_id is not None else None

    def absorb(self, page: Envelope) -> None:
        self.results.extend(page.results)
        for key, records in page.maps.items():
            self.maps.setdefault(key, {}).update(records)
        self.page_number, self.page_count = page.page_number, page.page_count


def parse_envelope(content: bytes) -> Envelope:
    with mapping("response envelope"):
        body = decode(content, system=SYSTEM, source="the response envelope")
        meta = body.get("meta") or {}
        results = [(str(item["key"]), str(item["id"])) for item in body["results"]]
        maps = {
            key: {str(k): v for k, v in value.items()}
            for key, value in body.items()
            if key not in ("count", "meta", "results") and isinstance(value, dict)
        }
        for key, record_id in results:
            if record_id not in maps.get(key, {}):
                raise KeyError(f"result {key}/{record_id} missing from its map")
        return Envelope(
            results, maps, int(meta.get("page_number", 1)), int(meta.get("page_count", 0))
        )
