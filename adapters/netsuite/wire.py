"""Bytes on the wire: exact-Decimal JSON both ways, ids from ``Location``, idempotency keys.

NetSuite takes and gives amounts as JSON numbers. We never let them pass
through a float: request bodies are written with Decimal amounts as number
literals of their exact text, and responses are parsed with
``parse_float=Decimal``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from adapters.netsuite.errors import SYSTEM
from domain.errors import MappingFailed

__all__ = [
    "IDEMPOTENCY_HEADER",
    "decode",
    "encode",
    "id_from_location",
    "idempotency_uuid",
]

IDEMPOTENCY_HEADER = "X-NetSuite-Idempotency-Key"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://engagement-gateway.example/netsuite")
_LOCATION_ID = re.compile(r"/record/v1/[A-Za-z]+/(\d+)/?$")
_encode_str = json.encoder.encode_basestring


def _write(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool):
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send a non-finite amount: {value}")
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, date):
        out.append(_encode_str(value.isoformat()))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            out.append(("," if index else "") + _encode_str(str(key)) + ":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot send {type(value).__name__} to NetSuite (floats are refused)")


def encode(payload: Any) -> bytes:
    """JSON with Decimal written exactly (``Decimal("412.35")`` → ``412.35``)."""
    out: list[str] = []
    _write(payload, out)
    return "".join(out).encode("utf-8")


def decode(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MappingFailed(
            f"unreadable JSON from {response.request.url.path}: {exc}", system=SYSTEM
        ) from exc


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
