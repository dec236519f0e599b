"""The process API of governed transitions, as the resolvers see it.

`Governance` holds the long-lived parts (store, runner, catalogue) and offers
one method per transition; each authorises the caller, binds its idempotency
key, refuses illegal transitions before anything is journaled, and returns the
journaled `Operation` (its status and result say how it ended).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.catalog import ServiceCatalog
from domain.errors import InvalidInput
from domain.governance import (
    AuditEntry,
    BusinessException,
    DeadLetter,
    DeadLetterStatus,
    ExceptionStatus,
    Role,
)
from domain.ids import EngagementKey, RecordId, is_engagement_key
from domain.money import Money
from domain.operations import Operation, OperationStatus
from domain.store import GovernanceStore
from workflows.activation import ACTIVATION, activation_id
from workflows.billing import draft_record, post_operation_id
from workflows.deadletters import DeadLetters
from workflows.exceptions import RESOLVE_EXCEPTION, resolution_id
from workflows.operations import OperationRunner
from workflows.policy import WinReadiness
from workflows.systems import Systems
from workflows.transitions import Caller, Forbidden, Transitions
from workflows.win import CLOSE_WIN, ensure_open, win_readiness

__all__ = ["Governance"]


def _engagement(key: str) -> EngagementKey:
    if not is_engagement_key(key):
        raise InvalidInput(f"{key!r} is not an engagement key (ENG-YYYY-NNNNN)")
    return EngagementKey(key)


def _ids(ids: Sequence[str], what: str) -> list[str]:
    cleaned = sorted({i.strip() for i in ids if i.strip()})
    if not cleaned:
        raise InvalidInput(f"name at least one {what}")
    if len(cleaned) > 500:
        raise InvalidInput(f"at most 500 {what}s per call")
    return cleaned


@dataclass(slots=True)
class Governance:
    systems: Systems
    catalog: ServiceCatalog
    store: GovernanceStore
    runner: OperationRunner
    transitions: Transitions
    dead_letter_queue: DeadLetters
    min_free_percent: int = 50

    # --- sales ---------------------------------------------------------------------------
    async def win_readiness(self, opportunity_id: str) -> WinReadiness:
        return await win_readiness(
            self.systems,
            self.catalog,
            RecordId(opportunity_id),
            min_free_percent=self.min_free_percent,
        )

    async def close_win(self, opportunity_id: str, caller: Caller, key: str | None) -> Operation:
        opportunity_id = opportunity_id.strip()
        if not opportunity_id:
            raise InvalidInput("opportunityId is required")
        opportunity = await self.systems.crm.get_opportunity(RecordId(opportunity_id))

        async def precheck() -> None:
            ensure_open(opportunity)

        return await self.transitions.execute(
            CLOSE_WIN,
            {"opportunity_id": opportunity_id},
            caller=caller,
            idempotency_key=key,
            engagement_key=opportunity.engagement_key,
            precheck=precheck,
        )

    async def activate(self, engagement_key: str, caller: Caller, key: str | None) -> Operation:
        engagement = _engagement(engagement_key)

        async def precheck() -> None:
            found = await self.systems.crm.get_opportunities_by_engagement([engagement])
            if not found:
                raise InvalidInput(f"no CRM opportunity carries {engagement}")

        return await self.transitions.execute(
            ACTIVATION,
            {"engagement_key": engagement},
            caller=caller,
            idempotency_key=key,
            engagement_key=engagement,
            operation_id=activation_id(engagement),
            precheck=precheck,
        )

    # --- delivery --------------------------------------------------------------------------
    async def assign_resource(
        self, payload: dict[str, Any], caller: Caller, key: str | None
    ) -> Operation:
        engagement = _engagement(str(payload["engagement_key"]))
        start, end = payload["start_date"], payload["end_date"]
        if end < start:
            raise InvalidInput("endDate must be on or after startDate")
        percent = int(payload["allocation_percent"])
        if not 1 <= percent <= 100:
            raise InvalidInput("allocationPercent must be between 1 and 100")
        data = {
            **payload,
            "engagement_key": engagement,
            "start_date": date.isoformat(start),
            "end_date": date.isoformat(end),
        }
        return await self.transitions.execute(
            "assignResource", data, caller=caller, idempotency_key=key, engagement_key=engagement
        )

    async def approve_time(self, ids: Sequence[str], caller: Caller, key: str | None) -> Operation:
        payload = {"ids": _ids(ids, "time entry id")}
        return await self.transitions.execute(
            "approveTimeEntries", payload, caller=caller, idempotency_key=key, engagement_key=None
        )

    async def reject_time(
        self, ids: Sequence[str], reason: str, caller: Caller, key: str | None
    ) -> Operation:
        if not reason.strip():
            raise InvalidInput("rejecting time needs a reason for the person")
        payload = {"ids": _ids(ids, "time entry id"), "reason": reason.strip()}
        return await self.transitions.execute(
            "rejectTimeEntries", payload, caller=caller, idempotency_key=key, engagement_key=None
        )

    async def approve_expenses(
        self, ids: Sequence[str], caller: Caller, key: str | None
    ) -> Operation:
        payload = {"ids": _ids(ids, "expense id")}
        return await self.transitions.execute(
            "approveExpenses", payload, caller=caller, idempotency_key=key, engagement_key=None
        )

    async def accept_milestone(
        self, milestone_id: str, caller: Caller, key: str | None
    ) -> Operation:
        if not milestone_id.strip():
            raise InvalidInput("milestoneId is required")
        return await self.transitions.execute(
            "acceptMilestone",
            {"milestone_id": milestone_id.strip()},
            caller=caller,
            idempotency_key=key,
            engagement_key=None,
        )

    # --- billing ----------------------------------------------------------------------------
    async def generate_invoice(
        self, engagement_key: str, period_end: date, caller: Caller, key: str | None
    ) -> Operation:
        engagement = _engagement(engagement_key)
        return await self.transitions.execute(
            "generateInvoice",
            {"engagement_key": engagement, "period_end": period_end.isoformat()},
            caller=caller,
            idempotency_key=key,
            engagement_key=engagement,
        )

    async def post_invoice(self, draft_id: str, caller: Caller, key: str | None) -> Operation:
        draft_id = draft_id.strip()
        raw = await self.store.get_record(draft_record(draft_id)) if draft_id else None
        if raw is None:
            raise InvalidInput(f"no invoice draft {draft_id!r}: generate one first")
        draft = json.loads(raw)

        async def precheck() -> None:
            posted = await self.store.get_operation(post_operation_id(draft_id))
            if posted is not None and posted.status is OperationStatus.SUCCEEDED:
                invoice = (posted.result or {}).get("invoice_id")
                raise InvalidInput(
                    f"draft {draft_id} was already posted as ERP invoice {invoice};"
                    " a draft is posted once"
                )

        return await self.transitions.execute(
            "postInvoice",
            {"draft_id": draft_id},
            caller=caller,
            idempotency_key=key,
            engagement_key=EngagementKey(draft["engagement_key"]),
            operation_id=post_operation_id(draft_id),
            precheck=precheck,
        )

    async def record_payment(
        self, invoice_id: str, amount: Money, on: date, caller: Caller, key: str | None
    ) -> Operation:
        if amount.amount <= 0:
            raise InvalidInput("a payment amount must be positive")
        found = await self.systems.erp.get_invoices([RecordId(invoice_id)])
        if not found:
            raise InvalidInput(f"no ERP invoice {invoice_id}")
        invoice = found[0]

        async def precheck() -> None:
            if amount.currency != invoice.total.currency:
                raise InvalidInput(
                    f"invoice {invoice_id} is in {invoice.total.currency}, not {amount.currency}"
                )
            if amount.amount > invoice.amount_remaining.amount:
                raise InvalidInput(
                    f"{amount.amount} {amount.currency} is more than the"
                    f" {invoice.amount_remaining.amount} outstanding on invoice {invoice_id}"
                )

        return await self.transitions.execute(
            "recordPayment",
            {
                "invoice_id": invoice_id,
                "amount": amount.model_dump(mode="json"),
                "date": on.isoformat(),
            },
            caller=caller,
            idempotency_key=key,
            engagement_key=invoice.engagement_key,
            precheck=precheck,
        )

    # --- exceptions --------------------------------------------------------------------------
    async def resolve_exception(
        self, exception_id: str, resolution: str, caller: Caller, key: str | None
    ) -> Operation:
        if not resolution.strip():
            raise InvalidInput("say how the exception was resolved")
        found = await self.store.get_business_exception(exception_id)
        if found is None:
            raise InvalidInput(f"no business exception {exception_id}")
        principal = caller.principal
        if principal is None or not principal.has_any({found.owner_role}):
            raise Forbidden(
                f"exception {exception_id} is owned by {found.owner_role}: only that role"
                " (or ADMIN) resolves it",
                required=frozenset({found.owner_role}),
            )

        async def precheck() -> None:
            if found.status is ExceptionStatus.RESOLVED:
                raise InvalidInput(f"exception {exception_id} is already resolved")

        return await self.transitions.execute(
            RESOLVE_EXCEPTION,
            {"exception_id": exception_id, "resolution": resolution.strip()},
            caller=caller,
            idempotency_key=key,
            engagement_key=found.engagement_key,
            operation_id=resolution_id(exception_id),
            precheck=precheck,
        )

    # --- operations ---------------------------------------------------------------------------
    async def operation(self, operation_id: str) -> Operation | None:
        return await self.store.get_operation(operation_id)

    async def audit_trail(self, engagement_key: str, limit: int) -> list[AuditEntry]:
        return await self.store.audit_trail(_engagement(engagement_key), limit)

    async def dead_letters(self, status: DeadLetterStatus | None, limit: int) -> list[DeadLetter]:
        return await self.store.dead_letters(status, limit)

    async def exceptions(self, roles: Sequence[Role] | None, limit: int) -> list[BusinessException]:
        return await self.store.business_exceptions(roles or None, limit=limit)

    async def replay_dead_letter(
        self, dead_letter_id: str, caller: Caller
    ) -> tuple[DeadLetter, Operation | None]:
        return await self.dead_letter_queue.replay(dead_letter_id, caller)

    async def discard_dead_letter(
        self, dead_letter_id: str, reason: str, caller: Caller
    ) -> tuple[DeadLetter, list[str]]:
        return await self.dead_letter_queue.discard(dead_letter_id, reason, caller)
