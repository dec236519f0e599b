"""A deal set to Closed Won in the CRM itself: the same checks and activation as closeWin.

The Salesforce feed reads changed opportunities; one that is won and not yet
announced runs `SyncWin`, a governed, journaled operation (as the system, actor
``sync:salesforce``) of two steps:

1. ``check`` - the closeWinOpportunity transition's own step (`workflows.win.CloseWin`):
   the seven pre-win checks; a failure ends the operation REJECTED with
   ``opportunity.rejected`` and one business exception per failed check, routed to
   its owner role;
2. ``announce`` - no CRM write (the stage is Closed Won already): the deal is read
   again and, still won, ``opportunity.won`` is committed, which starts the
   activation saga (workflows/processors.py).

Its id and idempotency key name the opportunity and the version seen, so the poll,
a webhook and a second replica seeing the same change run one operation, and a deal
edited after a rejection is checked again. ``opportunity.won`` announces the fact
``opportunity.won:<id>``: a deal won through closeWin (fact marked by its commit) is
not run again, and of two paths racing only the first commit publishes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.events import OpportunityWon, crm_fact_id
from domain.governance import SYSTEM_PRINCIPAL, Principal
from domain.ids import RecordId
from domain.models import Opportunity
from domain.operations import Commit, Operation, OperationStatus
from domain.sync import OpportunityChanges
from workflows.inbound_feeds import (
    EPOCH,
    Announced,
    Candidate,
    FeedName,
    Seen,
    facts_of,
    sync_event,
)
from workflows.journal_context import StepContext
from workflows.operations import Step, StepResult
from workflows.transitions import Caller, Transitions
from workflows.win import CLOSE_WIN, CloseWin, won_data

__all__ = ["SYNC_WIN", "OpportunityWins", "SyncWin", "sync_principal"]

SYNC_WIN = "syncWinOpportunity"


def sync_principal(system: str) -> Principal:
    """The product acting on what it read from `system` (the system principal's roles)."""
    return SYSTEM_PRINCIPAL.model_copy(update={"subject": f"sync:{system}"})


@dataclass(frozen=True, slots=True)
class SyncWin:
    close_win: CloseWin
    name: str = SYNC_WIN

    def steps(self, operation: Operation) -> Sequence[Step]:
        check = next(s for s in self.close_win.steps(operation) if s.name == "check")
        return [check, Step("announce", self._announce)]

    async def _announce(self, context: StepContext) -> StepResult:
        opportunity_id = RecordId(str(context.operation.input["opportunity_id"]))
        deal = await self.close_win.systems.crm.get_opportunity(opportunity_id)
        checks = context.output("check")["checks"]
        if not deal.is_won:  # reopened since: nothing to announce
            return StepResult(
                output={"stage": deal.stage},
                status=OperationStatus.REJECTED,
                result={"won": False, "opportunity_id": opportunity_id, "stage": deal.stage},
            )
        event = context.event(OpportunityWon, **won_data(opportunity_id, deal))
        return StepResult(
            output={"stage": deal.stage},
            commit=Commit(events=(event,)),
            after={"stage": deal.stage, "seen_in": "salesforce"},
            result={
                "won": True,
                "opportunity_id": opportunity_id,
                "engagement_key": deal.engagement_key,
                "checks": checks,
            },
        )


def _operation_id(opportunity_id: str, version: datetime) -> str:
    return f"{SYNC_WIN}:{crm_fact_id(opportunity_id)}:{version.astimezone(UTC):%Y%m%dT%H%M%S%f}"


@dataclass(frozen=True, slots=True)
class OpportunityWins(FeedName):
    source: OpportunityChanges
    transitions: Transitions
    system: str = "salesforce"
    record_type: str = "opportunity"
    names: frozenset[str] = frozenset({"opportunity"})

    async def history(self) -> list[str]:
        """Deals won before our first start: edited later, they are still no news."""
        won = await self.source.opportunities_changed_since(None, won_only=True)
        return facts_of(self._seen(deal) for deal in won)

    async def changed_since(self, since: datetime) -> list[Seen]:
        return [self._seen(o) for o in await self.source.opportunities_changed_since(since)]

    async def read(self, record_type: str, ids: Sequence[str]) -> list[Seen]:
        found = await self.source.get_opportunities([RecordId(i) for i in ids])
        return [self._seen(opportunity) for opportunity in found]

    def _seen(self, deal: Opportunity) -> Seen:
        key = crm_fact_id(deal.id)
        version = deal.modified_at or EPOCH
        if not deal.is_won:
            return Seen(key, version)
        data = won_data(deal.id, deal)
        event = sync_event(OpportunityWon, self.system, version, deal.engagement_key, **data)
        return Seen(key, version, (Candidate(key, f"salesforce:opportunity:{key}", event),))

    async def announce(self, candidates: Sequence[Candidate]) -> Announced:
        """Run the governed win of each deal; one still running elsewhere is looked at again."""
        ran, deferred = 0, set()
        for candidate in candidates:
            won = candidate.event
            assert isinstance(won, OpportunityWon)
            operation_id = _operation_id(won.opportunity_id, won.time)
            operation = await self.transitions.execute(
                SYNC_WIN,
                {"opportunity_id": won.opportunity_id, "version": won.time.isoformat()},
                caller=Caller(sync_principal(self.system)),
                idempotency_key=operation_id,
                engagement_key=won.subject,
                operation_id=operation_id,
                permission=CLOSE_WIN,
            )
            if operation.status is OperationStatus.RUNNING:
                deferred.add(candidate.record)
            else:  # SUCCEEDED, REJECTED, or DEAD_LETTERED (replayed from its dead letter)
                ran += 1
        return Announced(ran, frozenset(deferred))
