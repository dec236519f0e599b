"""NetSuite's wire details: ids from ``Location`` and idempotency keys.

Bodies are exact-Decimal JSON both ways, through `adapters.jsonwire`.
"""

from __future__ import annotations

import re
import uuid

import httpx

from adapters.netsuite.errors import SYSTEM
from domain.errors import MappingFailed

__all__ = ["IDEMPOTENCY_HEADER", "id_from_location", "idempotency_uuid"]

IDEMPOTENCY_HEADER = "X-NetSuite-Idempotency-Key"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://engagement-gateway.example/netsuite")
_LOCATION_ID = re.compile(r"/record/v1/[A-Za-z]+/(\d+)/?$")


def id_from_location(response: httpx.Response) -> str:
    """The new record's internal id, from ``Location: .../record/v1/{type}/{id}``."""
    location = response.headers.get("Location", "")
    match = _LOCATION_ID.search(location)
    if match is None:
        raise MappingFailed(f"no record id in the Location header {location!r}", system=SYSTEM)
    return match.group(1)


def idempotency_uuid(key: str) -> str:
    """NetSuite wants a UUID: ours are derived keys, so map them to a stable UUIDv5."""
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, key))
