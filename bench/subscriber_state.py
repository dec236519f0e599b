"""One load client's subscribers and what they received (bench.subscribers).

`Subscriber.receive` sorts the publisher's tagged events: ``bench-<seq>`` is
counted (a second copy as a duplicate) and timed against the event's `time`;
``primer-*`` marks the subscriber live; ``end-*`` says it has been sent all.
"""

from __future__ import annotations

import array
import asyncio
import time
from datetime import datetime
from typing import Any

from domain.governance import Role
from tests.e2e.gateway_process import bearer

__all__ = ["Subscriber", "Tally"]


class Tally:
    """What every subscriber of this process received."""

    def __init__(self, count: int) -> None:
        self.latencies = array.array("d")
        self.sequence = array.array("q")  # the event of each latency
        self.seqs: list[set[int]] = [set() for _ in range(count)]
        self.duplicates = 0
        self.resubscribes = 0  # operations that ended and were subscribed again
        self.reconnects = 0  # connections lost and opened again
        self.ended_by: dict[str, int] = {}  # why operations ended (error codes, "complete")
        self.failures: list[str] = []  # subscribers that gave up, and why
        self.primed = 0
        self.ended = 0
        self.all_primed = asyncio.Event()
        self.all_ended = asyncio.Event()

    def note_end(self, why: str) -> None:
        self.ended_by[why] = self.ended_by.get(why, 0) + 1

    def settle(self, *, primed: int = 0, ended: int = 0) -> None:
        """Count subscribers set up (or failed) and finished (or failed)."""
        self.primed += primed
        self.ended += ended
        if self.primed >= len(self.seqs):
            self.all_primed.set()
        if self.ended >= len(self.seqs):
            self.all_ended.set()


class Subscriber:
    """One subscription and the cursor it resumes from."""

    def __init__(
        self, index: int, slot: int, key: str | None, after: str | None, tally: Tally
    ) -> None:
        self.index, self.slot, self.key, self.cursor, self.tally = index, slot, key, after, tally
        self.token = bearer(f"bench-sub-{index}", Role.EXECUTIVE)["Authorization"]
        self.primed = self.ended = False
        self.ready = asyncio.Event()  # primed, or failed for good

    def variables(self) -> dict[str, Any]:
        found: dict[str, Any] = {"after": self.cursor}  # None: live from now on
        if self.key is not None:
            found["filter"] = {"engagementKeys": [self.key]}
        return found

    def receive(self, event: dict[str, Any]) -> None:
        now = time.time()
        self.cursor = event["cursor"]
        tag = str(event["data"]["time_entry_ids"][0])
        tally = self.tally
        if tag.startswith("bench-"):
            seq = int(tag[6:])
            if seq in tally.seqs[self.slot]:
                tally.duplicates += 1
                return
            tally.seqs[self.slot].add(seq)
            tally.latencies.append((now - datetime.fromisoformat(event["time"]).timestamp()) * 1e3)
            tally.sequence.append(seq)
        elif tag.startswith("primer-") and not self.primed:
            self.primed = True
            self.ready.set()
            tally.settle(primed=1)
        elif tag.startswith("end-") and not self.ended:
            self.ended = True
            tally.settle(ended=1)

    def fail(self, why: str) -> None:
        """Give up on this subscriber: counted as a failure, never waited for again."""
        self.tally.failures.append(f"subscriber {self.index}: {why}")
        self.ready.set()
        self.tally.settle(primed=0 if self.primed else 1, ended=0 if self.ended else 1)
        self.primed = self.ended = True

    def ended_with(self, errors: list[dict[str, Any]] | None) -> None:
        codes = [str((e.get("extensions") or {}).get("code")) for e in errors or []]
        self.tally.note_end(",".join(codes) or "complete")
