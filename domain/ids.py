"""Identifier types. Vendor ids are opaque strings; natural keys link systems."""

from __future__ import annotations

import re
from typing import NewType

__all__ = [
    "ENGAGEMENT_KEY_PATTERN",
    "CustomerKey",
    "EngagementKey",
    "RecordId",
    "is_engagement_key",
]

EngagementKey = NewType("EngagementKey", str)
"""The cross-system join, e.g. ``ENG-2026-00042``, stored on every vendor record."""

CustomerKey = NewType("CustomerKey", str)
"""A customer's master key, e.g. ``CUST-0007`` (ERP externalId, CRM link)."""

RecordId = NewType("RecordId", str)
"""A vendor's own record id, always carried as a string."""

ENGAGEMENT_KEY_PATTERN = re.compile(r"^ENG-\d{4}-\d{5}$")


def is_engagement_key(value: str) -> bool:
    return ENGAGEMENT_KEY_PATTERN.match(value) is not None
