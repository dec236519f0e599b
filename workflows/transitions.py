"""Governed transitions: authorisation, idempotency keys, then the journaled operation.

Every mutation comes here with the caller, its input and an idempotency key.
The key is bound (first come, first served, with a TTL) to the operation it
started; the same key with the same input returns that operation's outcome and
does nothing, the same key with another input is refused. Operations that have
a business identity (activating engagement X, posting draft Y) take their id
from it, so two callers with different keys still converge on one operation.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import DomainError, InvalidInput
from domain.governance import Principal, Role
from domain.ids import EngagementKey
from domain.observability import MetricsSink
from domain.operations import Operation
from domain.store import GovernanceStore
from workflows.operations import OperationRunner

__all__ = [
    "PERMISSIONS",
    "Caller",
    "Forbidden",
    "IdempotencyConflict",
    "Transitions",
    "fingerprint",
]

_NAMESPACE = uuid.UUID("0b8f5a52-3f0e-4d0c-a7a4-1f7e3b2d9c61")

PERMISSIONS: dict[str, frozenset[Role]] = {
    "closeWinOpportunity": frozenset({Role.SALES, Role.SALES_OPS}),
    "activation": frozenset({Role.PMO, Role.SALES_OPS, Role.FINANCE}),
    "assignResource": frozenset({Role.RESOURCE_MANAGER, Role.PMO}),
    "approveTimeEntries": frozenset({Role.PMO}),
    "rejectTimeEntries": frozenset({Role.PMO}),
    "approveExpenses": frozenset({Role.PMO, Role.FINANCE}),
    "acceptMilestone": frozenset({Role.PMO}),
    "generateInvoice": frozenset({Role.FINANCE}),
    "postInvoice": frozenset({Role.FINANCE}),
    "recordPayment": frozenset({Role.FINANCE}),
    "replayDeadLetter": frozenset({Role.ADMIN}),
    "discardDeadLetter": frozenset({Role.ADMIN}),
    "resolveException": frozenset(Role),
}


class Forbidden(DomainError):
    """The caller lacks a role the transition needs."""

    def __init__(self, message: str, *, required: frozenset[Role]) -> None:
        super().__init__(message)
        self.required = required


class IdempotencyConflict(InvalidInput):
    """An idempotency key reused with a different input."""


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal | None
    correlation_id: str | None = None


def fingerprint(kind: str, payload: dict[str, Any]) -> str:
    text = json.dumps({"kind": kind, "input": payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def authorise(kind: str, caller: Caller) -> Principal:
    """The caller's principal if it may run `kind`; `Forbidden` otherwise."""
    required = PERMISSIONS[kind]
    principal = caller.principal
    if principal is None:
        raise Forbidden(
            f"{kind} needs an authenticated caller with one of the roles "
            + ", ".join(sorted(required)),
            required=required,
        )
    if not principal.has_any(required):
        raise Forbidden(
            f"{kind} needs one of the roles {', '.join(sorted(required))};"
            f" {principal.subject} has {', '.join(sorted(principal.roles)) or 'none'}",
            required=required,
        )
    return principal


@dataclass(slots=True)
class Transitions:
    store: GovernanceStore
    runner: OperationRunner
    metrics: MetricsSink
    clock: Callable[[], datetime]
    idempotency_ttl_s: int = 86_400

    async def execute(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        caller: Caller,
        idempotency_key: str | None,
        engagement_key: EngagementKey | None,
        operation_id: str | None = None,
        permission: str | None = None,
        precheck: Callable[[], Awaitable[None]] | None = None,
    ) -> Operation:
        """Authorise, bind the idempotency key, and run (or replay) the operation.

        `precheck` runs only when a new operation is about to start (not on a replay);
        it refuses illegal transitions (unknown ids, wrong state) before anything is journaled.
        """
        principal = authorise(permission or kind, caller)
        key = (idempotency_key or "").strip()
        if not key:
            raise InvalidInput(
                f"{kind} needs an idempotency key: pass idempotencyKey or an Idempotency-Key header"
            )
        if len(key) > 200:
            raise InvalidInput("an idempotency key is at most 200 characters")
        print_ = fingerprint(kind, payload)
        scope = principal.subject
        own_id = operation_id or f"{kind}:{uuid.uuid5(_NAMESPACE, scope + chr(31) + key)}"
        bound_id, bound_print, fresh = await self.store.bind_idempotency_key(
            scope, key, own_id, print_, self.idempotency_ttl_s
        )
        if bound_print != print_:
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used for a different {kind} input"
                " (or another mutation); use a new key for a new request"
            )
        if fresh and precheck is not None:
            try:
                await precheck()
            except BaseException:
                await self.store.unbind_idempotency_key(scope, key, bound_id)
                raise
        operation = Operation(
            id=bound_id,
            kind=kind,
            engagement_key=engagement_key,
            input=payload,
            fingerprint=print_,
            actor=principal.subject,
            role=principal.primary_role,
            correlation_id=caller.correlation_id,
            created_at=self.clock(),
        )
        existing = await self.store.get_operation(bound_id)
        if existing is not None and existing.status.finished:
            self.metrics.idempotent_replay(kind)
            return existing
        journaled = await self.store.open_operation(operation)
        if journaled.fingerprint != print_:
            raise IdempotencyConflict(
                f"{kind} for this record is already under way with a different input"
            )
        if journaled.status.finished:
            self.metrics.idempotent_replay(kind)
            return journaled
        return await self.runner.run(journaled.id)
