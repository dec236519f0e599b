"""Harvest API v2 sandbox (time & expenses), speaking Harvest's wire format.

``create_app(firm)`` serves ``/v2/...`` (clients, projects, users, tasks,
expense categories, time entries, expenses, company, and the Uninvoiced
report of the Reports API) plus the shared control plane under ``/__sandbox``.
Calls need ``Authorization: Bearer HARVEST_TOKEN``, ``Harvest-Account-Id:
HARVEST_ACCOUNT_ID`` and a ``User-Agent``.
"""

from __future__ import annotations

from sandboxes.harvest.app import HARVEST_ACCOUNT_ID, HARVEST_TOKEN, create_app

__all__ = ["HARVEST_ACCOUNT_ID", "HARVEST_TOKEN", "create_app"]
