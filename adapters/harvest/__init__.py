"""Harvest v2 (time & expenses) adapter: the `TimeTracking` port over Harvest's REST API."""

from __future__ import annotations

from adapters.harvest.client import DEFAULT_USER_AGENT, HarvestAdapter
from adapters.harvest.commands import TimeEntryCreate

__all__ = ["DEFAULT_USER_AGENT", "HarvestAdapter", "TimeEntryCreate"]
