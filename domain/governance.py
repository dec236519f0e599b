"""Who may do what, and what the product records when things go wrong.

`Principal` is the authenticated caller. `BusinessException` is an expected
business outcome routed to the role that must act (never retried blindly);
`DeadLetter` is a technical failure that exhausted its retries, kept with the
full context needed to replay it. `AuditEntry` is one line of the append-only
audit trail.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.ids import EngagementKey

__all__ = [
    "SYSTEM_PRINCIPAL",
    "AuditEntry",
    "BusinessException",
    "CheckOutcome",
    "DeadLetter",
    "DeadLetterStatus",
    "ExceptionStatus",
    "Principal",
    "Role",
]


class Role(StrEnum):
    """Roles a caller may hold, and the owner roles business exceptions name."""

    SALES = "SALES"  # account executives: close deals
    SALES_OPS = "SALES_OPS"  # deal desk: opportunity data, billing model, rate card version
    MASTER_DATA = "MASTER_DATA"  # customer master, legal entities, tax data
    PMO = "PMO"  # delivery: projects, approvals, milestones
    RESOURCE_MANAGER = "RESOURCE_MANAGER"  # staffing
    FINANCE = "FINANCE"  # billing, invoices, payments, ERP setup
    EXECUTIVE = "EXECUTIVE"  # reads everything
    ADMIN = "ADMIN"  # operations: dead letters, replays; may do everything


class Principal(BaseModel):
    """The caller: a subject (user or service) and its roles.

    `expires_at` is when the caller's credential (its token) expires: live
    connections end then. None: it does not expire (the system principal). It is
    about the credential, not the caller: never serialized (what is recorded of a
    caller is its subject and role), and not part of equality or the hash.
    """

    model_config = ConfigDict(frozen=True)

    subject: str
    roles: frozenset[Role] = frozenset()
    expires_at: datetime | None = Field(default=None, exclude=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Principal):
            return NotImplemented
        return (self.subject, self.roles) == (other.subject, other.roles)

    def __hash__(self) -> int:
        return hash((self.subject, self.roles))

    def has_any(self, roles: frozenset[Role] | set[Role]) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles & roles)

    @property
    def primary_role(self) -> str | None:
        return min(self.roles) if self.roles else None


SYSTEM_PRINCIPAL = Principal(subject="engagement-gateway", roles=frozenset({Role.ADMIN}))
"""The product itself, acting on an event (a saga started by `opportunity.won`)."""


class CheckOutcome(BaseModel):
    """One policy check: passed or not, why, and who must fix it."""

    model_config = ConfigDict(frozen=True)

    name: str  # CUSTOMER_MASTER_STATUS, LEGAL_ENTITY_MAPPING, ...
    passed: bool
    reason: str
    owner_role: Role


class ExceptionStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class BusinessException(BaseModel):
    """A business rule stopped or flagged a transition; `owner_role` must act."""

    model_config = ConfigDict(frozen=True)

    id: str  # derived from (code, engagement, operation): raising twice is one exception
    code: str
    message: str
    owner_role: Role
    engagement_key: EngagementKey | None
    raised_at: datetime
    correlation_id: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    status: ExceptionStatus = ExceptionStatus.OPEN
    resolution: str | None = None


class DeadLetterStatus(StrEnum):
    PENDING = "PENDING"
    REPLAYED = "REPLAYED"
    DISCARDED = "DISCARDED"


class DeadLetter(BaseModel):
    """An operation whose technical failure outlasted its retries, ready to replay."""

    model_config = ConfigDict(frozen=True)

    id: str
    operation: str  # "activation", "postInvoice", ...
    operation_id: str  # the journaled operation (saga id) to resume on replay
    step: str | None
    engagement_key: EngagementKey | None
    error: str
    error_type: str
    system: str | None
    attempts: int
    failed_at: datetime
    correlation_id: str | None = None
    actor: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    status: DeadLetterStatus = DeadLetterStatus.PENDING
    replays: int = 0
    note: str | None = None  # the discard reason or the last replay's outcome


class AuditEntry(BaseModel):
    """One transition or saga step: who, in which role, when, and what changed."""

    model_config = ConfigDict(frozen=True)

    id: str | None = None  # the stream entry id, set when read back
    at: datetime
    actor: str
    role: str | None
    action: str  # "closeWinOpportunity", "activation.create_psa_project", ...
    engagement_key: EngagementKey | None
    correlation_id: str | None
    operation_id: str | None = None
    outcome: str = "ok"
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
