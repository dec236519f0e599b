"""Query fields of governance: pre-win checks, operations, audit trail, queues.

The trail and the queues need an authenticated caller (any role); the dead
letters need ADMIN or FINANCE. `winReadiness` is open like the rest of the graph.
"""

from __future__ import annotations

import strawberry

from domain.errors import InvalidInput
from domain.governance import DeadLetterStatus, Role
from resolvers.context import Info
from resolvers.transition_support import caller_of, governance_of, run_transition
from resolvers.types.governance import (
    AuditEntry,
    BusinessException,
    DeadLetter,
    Operation,
    PolicyCheck,
    WinReadiness,
)
from workflows.transitions import Forbidden

__all__ = ["GovernanceQuery"]

_MAX = 500


def _limit(value: int) -> int:
    if not 1 <= value <= _MAX:
        raise InvalidInput(f"ask for between 1 and {_MAX} items")
    return value


def _require(info: Info, roles: frozenset[Role] | None = None) -> None:
    principal = caller_of(info).principal
    if principal is None:
        raise Forbidden("this needs an authenticated caller", required=roles or frozenset(Role))
    if roles and not principal.has_any(roles):
        raise Forbidden(f"this needs one of the roles {', '.join(sorted(roles))}", required=roles)


@strawberry.type
class GovernanceQuery:
    @strawberry.field(description="The seven pre-win policy checks of an opportunity.")
    async def win_readiness(self, info: Info, opportunity_id: strawberry.ID) -> WinReadiness:
        g = governance_of(info)
        readiness = await run_transition(info, g.win_readiness(str(opportunity_id)))
        return WinReadiness(
            opportunity_id=strawberry.ID(readiness.opportunity_id),
            engagement_key=readiness.engagement_key,
            ready=readiness.ready,
            checks=[PolicyCheck.from_model(c) for c in readiness.checks],
        )

    @strawberry.field(description="A journaled transition or saga by its operation id.")
    async def operation(self, info: Info, id: strawberry.ID) -> Operation | None:
        async def load() -> Operation | None:
            _require(info)
            op = await governance_of(info).operation(str(id))
            return Operation.from_model(op) if op else None

        return await run_transition(info, load())

    @strawberry.field(description="Who did what to an engagement, oldest first (never trimmed).")
    async def audit_trail(
        self, info: Info, engagement_key: str, last: int = 200
    ) -> list[AuditEntry]:
        async def load() -> list[AuditEntry]:
            _require(info)
            trail = await governance_of(info).audit_trail(engagement_key, _limit(last))
            return [AuditEntry.from_model(a) for a in trail]

        return await run_transition(info, load())

    @strawberry.field(description="Failed operations waiting for replay or discard, newest first.")
    async def dead_letters(
        self,
        info: Info,
        status: DeadLetterStatus | None = DeadLetterStatus.PENDING,
        first: int = 100,
    ) -> list[DeadLetter]:
        async def load() -> list[DeadLetter]:
            _require(info, frozenset({Role.ADMIN, Role.FINANCE}))
            letters = await governance_of(info).dead_letters(status, _limit(first))
            return [DeadLetter.from_model(d) for d in letters]

        return await run_transition(info, load())

    @strawberry.field(description="Open business exceptions, for the given owner roles (or all).")
    async def business_exceptions(
        self, info: Info, roles: list[Role] | None = None, first: int = 100
    ) -> list[BusinessException]:
        async def load() -> list[BusinessException]:
            _require(info)
            found = await governance_of(info).exceptions(roles, _limit(first))
            return [BusinessException.from_model(e) for e in found]

        return await run_transition(info, load())
