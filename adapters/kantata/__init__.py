"""Kantata OX (PSA) adapter: workspaces, people, staffing, milestones, rate cards."""

from __future__ import annotations

from adapters.kantata.client import KantataAdapter

__all__ = ["KantataAdapter"]
