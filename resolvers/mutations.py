"""Mutations: governed transitions, thin over workflows.governance.

Every mutation takes an ``idempotencyKey`` argument (or the request's
``Idempotency-Key`` header): the same key with the same input returns the
first call's result and does nothing again; with another input it is refused.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from domain.operations import Operation as DomainOperation
from domain.operations import OperationStatus
from resolvers.billing_mutations import BillingMutation
from resolvers.context import Info
from resolvers.transition_support import (
    caller_of,
    governance_of,
    key_of,
    outcome,
    run_transition,
)
from resolvers.types.governance import (
    BusinessRejection,
    DeadLetter,
    DeadLettered,
    Operation,
    PolicyCheck,
    PolicyRejected,
    TransitionPending,
    rejection_or_pending,
)
from resolvers.types.transitions import (
    DeadLetterDiscarded,
    DeadLetterReplayed,
    EngagementActivated,
    ExceptionResolved,
    ExpensesApproved,
    MilestoneAccepted,
    OpportunityWon,
    ResourceAssigned,
    TimeEntriesApproved,
    TimeEntriesRejected,
)

__all__ = ["Mutation"]


Failure = BusinessRejection | DeadLettered | TransitionPending
CloseWinResult = Annotated[
    OpportunityWon | PolicyRejected | Failure, strawberry.union("CloseWinResult")
]
ActivationResult = Annotated[EngagementActivated | Failure, strawberry.union("ActivationResult")]
AssignmentResult = Annotated[ResourceAssigned | Failure, strawberry.union("AssignmentResult")]
TimeApprovalResult = Annotated[
    TimeEntriesApproved | Failure, strawberry.union("TimeApprovalResult")
]
TimeRejectionResult = Annotated[
    TimeEntriesRejected | Failure, strawberry.union("TimeRejectionResult")
]
ExpenseApprovalResult = Annotated[
    ExpensesApproved | Failure, strawberry.union("ExpenseApprovalResult")
]
ExceptionResolutionResult = Annotated[
    ExceptionResolved | Failure, strawberry.union("ExceptionResolutionResult")
]
MilestoneAcceptanceResult = Annotated[
    MilestoneAccepted | Failure, strawberry.union("MilestoneAcceptanceResult")
]


def _id(op: DomainOperation) -> strawberry.ID:
    return strawberry.ID(op.id)


def _won(op: DomainOperation) -> OpportunityWon | PolicyRejected | Failure:
    r = op.result or {}
    checks = [PolicyCheck.from_json(c) for c in r.get("checks", [])]
    if op.status is OperationStatus.SUCCEEDED:
        return OpportunityWon(
            operation_id=_id(op),
            opportunity_id=strawberry.ID(str(r["opportunity_id"])),
            engagement_key=r.get("engagement_key"),
            checks=checks,
        )
    if op.status is OperationStatus.REJECTED and "checks" in r:
        return PolicyRejected(
            operation_id=_id(op),
            opportunity_id=strawberry.ID(str(r["opportunity_id"])),
            failures=[c for c in checks if not c.passed],
            exception_ids=list(r.get("exception_ids", [])),
        )
    return rejection_or_pending(op)


@strawberry.input
class AssignResourceInput:
    engagement_key: str
    person_id: strawberry.ID
    allocation_percent: int
    start_date: date
    end_date: date
    role: str | None = None


@strawberry.type
class Mutation(BillingMutation):
    @strawberry.mutation(description="Run the pre-win checks; when all pass, close the deal won.")
    async def close_win_opportunity(
        self, info: Info, opportunity_id: strawberry.ID, idempotency_key: str | None = None
    ) -> CloseWinResult:
        g = governance_of(info)
        op = await run_transition(
            info, g.close_win(str(opportunity_id), caller_of(info), key_of(info, idempotency_key))
        )
        return _won(op)

    @strawberry.mutation(description="Set a won engagement up in the ERP and the PSA (a saga).")
    async def activate_engagement(
        self, info: Info, engagement_key: str, idempotency_key: str | None = None
    ) -> ActivationResult:
        g = governance_of(info)
        op = await run_transition(
            info, g.activate(engagement_key, caller_of(info), key_of(info, idempotency_key))
        )
        return outcome(op, EngagementActivated.from_result)

    @strawberry.mutation(description="Staff a person; over-allocation is refused, not silent.")
    async def assign_resource(
        self, info: Info, input: AssignResourceInput, idempotency_key: str | None = None
    ) -> AssignmentResult:
        payload = {
            "engagement_key": input.engagement_key,
            "person_id": str(input.person_id),
            "allocation_percent": input.allocation_percent,
            "start_date": input.start_date,
            "end_date": input.end_date,
            "role": input.role,
        }
        g = governance_of(info)
        op = await run_transition(
            info, g.assign_resource(payload, caller_of(info), key_of(info, idempotency_key))
        )
        return outcome(op, ResourceAssigned.from_result)

    @strawberry.mutation(description="Approve time entries; billed entries are refused.")
    async def approve_time_entries(
        self, info: Info, ids: list[strawberry.ID], idempotency_key: str | None = None
    ) -> TimeApprovalResult:
        g = governance_of(info)
        op = await run_transition(
            info,
            g.approve_time([str(i) for i in ids], caller_of(info), key_of(info, idempotency_key)),
        )
        return outcome(op, TimeEntriesApproved.from_result)

    @strawberry.mutation(description="Send time entries back; billed or locked ones are refused.")
    async def reject_time_entries(
        self,
        info: Info,
        ids: list[strawberry.ID],
        reason: str,
        idempotency_key: str | None = None,
    ) -> TimeRejectionResult:
        g = governance_of(info)
        op = await run_transition(
            info,
            g.reject_time(
                [str(i) for i in ids], reason, caller_of(info), key_of(info, idempotency_key)
            ),
        )
        return outcome(op, TimeEntriesRejected.from_result)

    @strawberry.mutation(description="Approve expenses; billed ones are refused.")
    async def approve_expenses(
        self, info: Info, ids: list[strawberry.ID], idempotency_key: str | None = None
    ) -> ExpenseApprovalResult:
        g = governance_of(info)
        op = await run_transition(
            info,
            g.approve_expenses(
                [str(i) for i in ids], caller_of(info), key_of(info, idempotency_key)
            ),
        )
        return outcome(op, ExpensesApproved.from_result)

    @strawberry.mutation(description="Record the customer's acceptance of a completed milestone.")
    async def accept_milestone(
        self, info: Info, milestone_id: strawberry.ID, idempotency_key: str | None = None
    ) -> MilestoneAcceptanceResult:
        g = governance_of(info)
        op = await run_transition(
            info,
            g.accept_milestone(str(milestone_id), caller_of(info), key_of(info, idempotency_key)),
        )
        return outcome(op, MilestoneAccepted.from_result)

    @strawberry.mutation(description="Close a business exception you own, saying what was done.")
    async def resolve_business_exception(
        self,
        info: Info,
        id: strawberry.ID,
        resolution: str,
        idempotency_key: str | None = None,
    ) -> ExceptionResolutionResult:
        g = governance_of(info)
        op = await run_transition(
            info,
            g.resolve_exception(
                str(id), resolution, caller_of(info), key_of(info, idempotency_key)
            ),
        )
        return outcome(op, ExceptionResolved.from_result)

    @strawberry.mutation(description="Resume a dead-lettered operation at its failed step.")
    async def replay_dead_letter(self, info: Info, id: strawberry.ID) -> DeadLetterReplayed:
        g = governance_of(info)
        letter, op = await run_transition(info, g.replay_dead_letter(str(id), caller_of(info)))
        return DeadLetterReplayed(
            dead_letter=DeadLetter.from_model(letter),
            operation=Operation.from_model(op) if op is not None else None,
        )

    @strawberry.mutation(description="Give up on a dead letter (compensating where defined).")
    async def discard_dead_letter(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> DeadLetterDiscarded:
        g = governance_of(info)
        letter, undone = await run_transition(
            info, g.discard_dead_letter(str(id), reason, caller_of(info))
        )
        return DeadLetterDiscarded(dead_letter=DeadLetter.from_model(letter), compensated=undone)
