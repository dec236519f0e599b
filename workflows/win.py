"""Closing a deal: the pre-win policy checks, then Closed Won in the CRM.

`win_readiness` reads what the checks need from the systems (concurrently) and
evaluates them without side effects. `CloseWin` is the governed transition:

1. ``check`` - the seven checks again (the world may have changed since the
   caller looked); if any fails the operation ends REJECTED with one business
   exception per failed check, routed to its owner role, and
   ``opportunity.rejected`` is published;
2. ``close`` - StageName = Closed Won through the CRM adapter (an absolute
   value, safe to replay); commits ``opportunity.won``, which starts the
   activation saga.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.catalog import ServiceCatalog
from domain.commands import OpportunityUpdate
from domain.errors import InvalidInput
from domain.events import OpportunityRejected, OpportunityWon
from domain.ids import RecordId
from domain.models import Assignment, Customer, Opportunity
from domain.operations import Commit, Operation, OperationStatus
from workflows.journal_context import StepContext
from workflows.operations import Step, StepResult
from workflows.policy import WinInputs, WinReadiness, evaluate_win_readiness
from workflows.systems import Systems

__all__ = ["CLOSE_WIN", "WON_STAGE", "CloseWin", "ensure_open", "win_readiness", "won_data"]

CLOSE_WIN = "closeWinOpportunity"
WON_STAGE = "Closed Won"


def won_data(opportunity_id: str, deal: Opportunity) -> dict[str, Any]:
    """What ``opportunity.won`` says of a deal, whichever path announces it (closeWin, or
    the inbound sync seeing it won in the CRM)."""
    return {
        "opportunity_id": opportunity_id,
        "customer_key": deal.customer_key,
        "billing_model": deal.billing_model,
        "amount": str(deal.amount.amount) if deal.amount else None,
        "currency": deal.amount.currency if deal.amount else None,
    }


def ensure_open(opportunity: Opportunity) -> None:
    """Closing a closed deal is an illegal transition: refuse it before anything runs."""
    if opportunity.is_closed:
        raise InvalidInput(
            f"opportunity {opportunity.id} is already {opportunity.stage!r}; only an open"
            " deal can be closed won (SALES_OPS can reopen it in the CRM)"
        )


async def win_readiness(
    systems: Systems,
    catalog: ServiceCatalog,
    opportunity_id: RecordId,
    *,
    min_free_percent: int = 50,
) -> WinReadiness:
    """The seven pre-win checks for an opportunity; reads only, changes nothing."""
    opportunity = await systems.crm.get_opportunity(opportunity_id)
    start, end = _window(opportunity)

    async def customers() -> list[Customer]:
        if not opportunity.customer_key:
            return []
        return await systems.erp.get_customers_by_key([opportunity.customer_key])

    async def allocations() -> Sequence[Assignment]:
        return await systems.psa.list_allocations(start, end)

    found, entities, cards, people, allocated, lines = await asyncio.gather(
        customers(),
        systems.erp.list_legal_entities(),
        systems.psa.list_rate_cards(),
        systems.psa.list_people(),
        allocations(),
        systems.crm.get_opportunity_lines([opportunity.id]),
    )
    customer = found[0] if found else None
    return evaluate_win_readiness(
        WinInputs(
            opportunity=opportunity,
            customer=customer,
            legal_entities=entities,
            rate_cards=cards,
            people=people,
            allocations=allocated,
            lines=lines,
            catalog=catalog,
            min_free_percent=min_free_percent,
        )
    )


def _window(opportunity: Opportunity) -> tuple[date, date]:
    start = opportunity.start_date or (opportunity.close_date or date.today())
    return start, opportunity.end_date or start + timedelta(days=90)


@dataclass(frozen=True, slots=True)
class CloseWin:
    systems: Systems
    catalog: ServiceCatalog
    min_free_percent: int = 50
    name: str = CLOSE_WIN

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step("check", self._check), Step("close", self._close)]

    async def _check(self, context: StepContext) -> StepResult:
        opportunity_id = RecordId(str(context.operation.input["opportunity_id"]))
        readiness = await win_readiness(
            self.systems, self.catalog, opportunity_id, min_free_percent=self.min_free_percent
        )
        checks = [c.model_dump(mode="json") for c in readiness.checks]
        if readiness.ready:
            return StepResult(output={"checks": checks})
        pairs = [
            context.business_exception(
                failed.name, failed.reason, failed.owner_role, opportunity_id=opportunity_id
            )
            for failed in readiness.failures
        ]
        exceptions = tuple(exception for exception, _ in pairs)
        raised = tuple(event for _, event in pairs)
        rejected = context.event(
            OpportunityRejected,
            opportunity_id=opportunity_id,
            failed_checks=[f.name for f in readiness.failures],
        )
        return StepResult(
            output={"checks": checks},
            commit=Commit(events=(rejected, *raised), exceptions=exceptions),
            status=OperationStatus.REJECTED,
            result={
                "rejected": True,
                "opportunity_id": opportunity_id,
                "checks": checks,
                "exception_ids": [e.id for e in exceptions],
            },
        )

    async def _close(self, context: StepContext) -> StepResult:
        opportunity_id = RecordId(str(context.operation.input["opportunity_id"]))
        before = await self.systems.crm.get_opportunity(opportunity_id)
        won = await self.systems.crm.update_opportunity(
            opportunity_id, OpportunityUpdate(stage=WON_STAGE)
        )
        event = context.event(OpportunityWon, **won_data(opportunity_id, won))
        return StepResult(
            output={"stage": won.stage},
            commit=Commit(events=(event,)),
            before={"stage": before.stage},
            after={"stage": won.stage},
            result={
                "won": True,
                "opportunity_id": opportunity_id,
                "engagement_key": won.engagement_key,
                "checks": context.output("check")["checks"],
            },
        )
