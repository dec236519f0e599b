"""Kantata OX (ex-Mavenlink) API v1 sandbox: workspaces, people, staffing, milestones.

See `sandboxes.kantata.state` for how the firm is rendered (and the staffing
representation), `sandboxes.kantata.query` for paging rules.
"""

from __future__ import annotations

from sandboxes.kantata.app import API_PREFIX, KANTATA_TOKEN, create_app

__all__ = ["API_PREFIX", "KANTATA_TOKEN", "create_app"]
