"""The governance store port: journal, idempotency, billing claims, trails and queues.

One implementation lives in adapters/store (Redis: real, or embedded fakeredis).
`OperationStore.commit` is the contract everything else rests on: a step's
completion, its events, audit entries, business exceptions, dead letters and
billing claims are written together or not at all, and a step already
committed is never committed twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.events import Event
from domain.governance import (
    AuditEntry,
    BusinessException,
    DeadLetter,
    DeadLetterStatus,
    ExceptionStatus,
    Role,
)
from domain.ids import EngagementKey
from domain.operations import NO_EFFECTS, Commit, Operation, OperationStatus

__all__ = ["ClaimConflict", "Delivery", "GovernanceStore"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One entry of the event stream as a consumer group delivered it.

    ``event`` is None when the record does not parse (a poison entry: ``error``
    says why); ``deliveries`` is how many times the group has handed it out.
    """

    entry_id: str
    record: str  # the CloudEvent JSON as stored
    event: Event | None
    error: str | None = None
    deliveries: int = 1


class ClaimConflict(Exception):
    """Billing inputs are already claimed by another invoice."""

    def __init__(self, taken: dict[str, str]) -> None:
        super().__init__(
            "already billed: " + ", ".join(f"{k} on {v}" for k, v in sorted(taken.items()))
        )
        self.taken = taken


class GovernanceStore(Protocol):
    # --- the operation journal -------------------------------------------------------
    async def open_operation(self, operation: Operation) -> Operation:
        """Journal `operation` unless one with its id exists; return the journaled one."""
        ...

    async def get_operation(self, operation_id: str) -> Operation | None: ...

    async def step_started(self, operation_id: str, step: str) -> int:
        """Record an attempt of `step` before it runs; returns the attempt number."""
        ...

    async def step_failed(self, operation_id: str, step: str, error: str) -> None: ...

    async def reset_step(self, operation_id: str, step: str) -> None:
        """Give a failed step fresh attempts (a dead letter replayed)."""
        ...

    async def commit(
        self,
        operation_id: str,
        *,
        step: str | None,
        output: dict[str, Any] | None = None,
        commit: Commit = NO_EFFECTS,
        status: OperationStatus | None = None,
        result: dict[str, Any] | None = None,
    ) -> bool:
        """Atomically mark `step` done (with `output`), write `commit`, and optionally set the
        operation's status and result. Returns False, writing nothing, when `step` was
        already done. Raises `ClaimConflict` when a claimed input belongs to another owner."""
        ...

    async def set_status(
        self, operation_id: str, status: OperationStatus, result: dict[str, Any] | None = None
    ) -> None: ...

    async def forget_operation(self, operation_id: str) -> None:
        """Drop an id from the RUNNING set whose journal is gone."""
        ...

    async def incomplete_operations(self) -> list[str]:
        """Ids of operations still RUNNING (to resume on start)."""
        ...

    async def acquire_lease(self, operation_id: str, holder: str, ttl_ms: int) -> bool: ...

    async def renew_lease(self, operation_id: str, holder: str, ttl_ms: int) -> bool: ...

    async def release_lease(self, operation_id: str, holder: str) -> None: ...

    # --- idempotency keys ----------------------------------------------------------------
    async def bind_idempotency_key(
        self, scope: str, key: str, operation_id: str, fingerprint: str, ttl_s: int
    ) -> tuple[str, str, bool]:
        """Bind a client's key to an operation, first come first served; returns the
        (operation_id, fingerprint) the key is bound to and whether this call bound it."""
        ...

    async def unbind_idempotency_key(self, scope: str, key: str, operation_id: str) -> None:
        """Free a key whose request was refused before it started anything."""
        ...

    # --- billing claims and documents ------------------------------------------------------
    async def claims(self, inputs: Sequence[str]) -> dict[str, str]:
        """Which of `inputs` are claimed, and by whom."""
        ...

    async def get_record(self, name: str) -> str | None: ...

    async def put_record(self, name: str, value: str) -> None: ...

    # --- trails and queues ---------------------------------------------------------------
    async def audit_trail(
        self, engagement_key: EngagementKey | None, limit: int = 200
    ) -> list[AuditEntry]: ...

    async def events(self, after: str = "0", count: int = 1000) -> list[tuple[str, Event]]: ...

    async def dead_letters(
        self, status: DeadLetterStatus | None = None, limit: int = 200
    ) -> list[DeadLetter]: ...

    async def get_dead_letter(self, dead_letter_id: str) -> DeadLetter | None: ...

    async def put_dead_letter(self, dead_letter: DeadLetter) -> None: ...

    async def business_exceptions(
        self,
        roles: Sequence[Role] | None = None,
        status: ExceptionStatus | None = ExceptionStatus.OPEN,
        limit: int = 200,
    ) -> list[BusinessException]: ...

    async def get_business_exception(self, exception_id: str) -> BusinessException | None: ...

    async def resolve_business_exception(self, exception_id: str, resolution: str) -> bool: ...
