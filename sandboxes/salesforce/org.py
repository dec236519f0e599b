"""One sandbox org: its data, sessions, API allocation and open query cursors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sandboxes.salesforce.auth import TokenStore
from sandboxes.salesforce.cursors import CursorStore
from sandboxes.salesforce.limits import ApiUsage
from sandboxes.salesforce.state import OrgState

__all__ = ["Org"]


@dataclass(slots=True)
class Org:
    state: OrgState
    tokens: TokenStore
    usage: ApiUsage
    cursors: CursorStore
    clock: Callable[[], datetime]

    def reset(self) -> None:
        """Back to the seeded data: records, cursors and the API usage window (not sessions)."""
        self.state.reset()
        self.cursors.clear()
        self.usage.reset()
