"""Billing transitions: generate a draft, post it, record a payment.

``generateInvoice`` reads the engagement's governed billing inputs, runs the
billing engine (`workflows.billing_rules`) and keeps the draft. Its id is
derived from the engagement, the period and the exact inputs and amounts, so
any number of concurrent generations of one period produce one draft.

``postInvoice`` runs once per draft (its operation id is the draft's):

1. ``claim`` - every input the draft bills is claimed for its invoice in the
   store, atomically; an input claimed by another invoice refuses the post;
2. ``post_erp`` - the ERP invoice, externalId and idempotency key derived from
   the draft (a replay finds the invoice); commits ``invoice.posted``;
3. ``mark_time`` - the time-tracking system marks the drafted time and
   expenses invoiced under the invoice's number;
4. ``update_crm`` - the opportunity's invoiced total := the sum of its ERP
   invoices (an absolute value: safe to replay). If this step fails for good,
   a business exception INVOICE_POSTED_WITHOUT_CRM_UPDATE goes to FINANCE
   with the dead letter: never a silent gap.

``recordPayment`` posts the ERP customer payment (externalId derived from the
operation) and commits ``payment.received``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.commands import InvoiceMarking, InvoicePost, OpportunityUpdate, PaymentRecord
from domain.errors import BusinessRuleViolation, UpstreamRejected
from domain.events import InvoiceGenerated, InvoicePosted, PaymentReceived
from domain.governance import Role
from domain.ids import EngagementKey, RecordId
from domain.models import InvoiceLine
from domain.money import Money
from domain.operations import Commit, Operation
from domain.store import GovernanceStore
from workflows.billing_inputs import expense_key, time_key
from workflows.billing_read import read_billing_inputs
from workflows.billing_rules import build_draft
from workflows.journal_context import StepContext
from workflows.operations import Step, StepResult
from workflows.systems import Systems

__all__ = [
    "GenerateInvoice",
    "PostInvoice",
    "RecordPayment",
    "draft_record",
    "post_operation_id",
]

DUE_DAYS = 30


def post_operation_id(draft_id: str) -> str:
    return f"postInvoice:{draft_id}"


def draft_record(draft_id: str) -> str:
    return f"draft:{draft_id}"


def _refuse(code: str, message: str, role: Role = Role.FINANCE) -> BusinessRuleViolation:
    return BusinessRuleViolation(message, owner_role=role, code=code)


def _draft_id(key: str, period_end: date, lines: Sequence[InvoiceLine]) -> str:
    basis = json.dumps(
        [[line.description, str(line.amount.amount), list(line.sources)] for line in lines],
        sort_keys=True,
    )
    digest = hashlib.sha256(f"{key}|{period_end}|{basis}".encode()).hexdigest()[:10]
    return f"DR-{key}-{period_end:%Y%m%d}-{digest}"


@dataclass(frozen=True, slots=True)
class GenerateInvoice:
    systems: Systems
    store: GovernanceStore
    closed_through: date | None = None
    name: str = "generateInvoice"

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step("compute", self._compute)]

    async def _compute(self, context: StepContext) -> StepResult:
        data = context.operation.input
        key = EngagementKey(str(data["engagement_key"]))
        period_end = date.fromisoformat(str(data["period_end"]))
        billing = await read_billing_inputs(
            self.systems, self.store, key, period_end, self.closed_through
        )
        draft = build_draft(billing.inputs)
        violations = [v.model_dump(mode="json") for v in draft.violations]
        if draft.blocking:
            first = draft.blocking[0]
            context.details["violations"] = violations
            raise _refuse(
                first.code,
                "; ".join(v.message for v in draft.blocking),
                first.owner_role,
            )
        project = billing.project
        if project.customer_id is None or project.subsidiary_id is None:
            raise _refuse("CONTRACT_TERMS_MISSING", f"{key}: the ERP project lacks its customer")
        draft_id = _draft_id(key, period_end, draft.lines)
        # the window Harvest marks invoiced: the drafted work's own days, not all history, so
        # work approved after this draft is marked by the invoice that bills it, not this one
        drafted = set(draft.input_keys)
        work_days = [
            e.spent_date for e in billing.inputs.time_entries if time_key(e) in drafted
        ] + [x.spent_date for x in billing.inputs.expenses if expense_key(x) in drafted]
        record: dict[str, Any] = {
            "id": draft_id,
            "engagement_key": key,
            "period_end": period_end.isoformat(),
            "currency": draft.currency,
            "lines": [line.model_dump(mode="json") for line in draft.lines],
            "total": draft.total.model_dump(mode="json"),
            "input_keys": list(draft.input_keys),
            "violations": violations,
            "customer_id": project.customer_id,
            "subsidiary_id": project.subsidiary_id,
            "erp_project_id": project.id,
            "external_id": f"INV-{key}-{period_end:%Y-%m}-{draft_id[-6:]}",
            "time_ids": sorted(e.id for e in billing.inputs.time_entries if time_key(e) in drafted),
            "expense_ids": sorted(
                x.id for x in billing.inputs.expenses if expense_key(x) in drafted
            ),
            "work_from": min(work_days).isoformat() if work_days else None,
            "work_to": max(work_days).isoformat() if work_days else None,
        }
        event = context.event(
            InvoiceGenerated,
            draft_id=draft_id,
            period_end=period_end.isoformat(),
            total=str(draft.total.amount),
            currency=draft.currency,
        )
        summary = {k: record[k] for k in ("id", "engagement_key", "period_end", "total")}
        return StepResult(
            output={"draft_id": draft_id},
            commit=Commit(events=(event,), records={draft_record(draft_id): json.dumps(record)}),
            after=summary,
            result={"draft": record},
        )


@dataclass(frozen=True, slots=True)
class PostInvoice:
    systems: Systems
    store: GovernanceStore
    name: str = "postInvoice"

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [
            Step("claim", self._claim),
            Step("post_erp", self._post),
            Step("mark_time", self._mark),
            Step(
                "update_crm",
                self._update_crm,
                exception_on_failure=(
                    "INVOICE_POSTED_WITHOUT_CRM_UPDATE",
                    Role.FINANCE,
                    "the invoice is posted in the ERP but the CRM opportunity's invoiced"
                    " total was not updated",
                ),
            ),
        ]

    async def _draft(self, context: StepContext) -> dict[str, Any]:
        raw = await self.store.get_record(draft_record(str(context.operation.input["draft_id"])))
        if raw is None:
            raise _refuse("DRAFT_NOT_FOUND", f"no draft {context.operation.input['draft_id']}")
        draft: dict[str, Any] = json.loads(raw)
        return draft

    async def _claim(self, context: StepContext) -> StepResult:
        draft = await self._draft(context)
        keys = tuple(draft["input_keys"])
        return StepResult(
            output={"claimed": len(keys)},
            commit=Commit(claims=keys, claim_owner=draft["external_id"]),
        )

    async def _post(self, context: StepContext) -> StepResult:
        draft = await self._draft(context)
        period_end = date.fromisoformat(draft["period_end"])
        command = InvoicePost(
            external_id=draft["external_id"],
            engagement_key=EngagementKey(draft["engagement_key"]),
            customer_id=RecordId(draft["customer_id"]),
            subsidiary_id=RecordId(draft["subsidiary_id"]),
            currency=draft["currency"],
            tran_date=period_end,
            due_date=period_end + timedelta(days=DUE_DAYS),
            lines=tuple(InvoiceLine.model_validate(line) for line in draft["lines"]),
            memo=f"{draft['engagement_key']} through {draft['period_end']}",
            erp_project_id=RecordId(draft["erp_project_id"]),
            idempotency_key=f"{draft['id']}:post_erp",
        )
        invoice = await self.systems.erp.post_invoice(command)
        event = context.event(
            InvoicePosted,
            draft_id=draft["id"],
            invoice_id=invoice.id,
            external_id=draft["external_id"],
            total=str(invoice.total.amount),
            currency=invoice.total.currency,
        )
        out = {
            "invoice_id": invoice.id,
            "tran_id": invoice.tran_id,
            "total": str(invoice.total.amount),
        }
        return StepResult(output=out, commit=Commit(events=(event,)), after=out)

    async def _mark(self, context: StepContext) -> StepResult:
        draft = await self._draft(context)
        if not draft.get("work_from"):
            return StepResult(output={"marked": 0})
        marking = InvoiceMarking(
            engagement_key=EngagementKey(draft["engagement_key"]),
            number=draft["external_id"],
            date_from=date.fromisoformat(draft["work_from"]),
            date_to=date.fromisoformat(draft.get("work_to") or draft["period_end"]),
            issue_date=date.fromisoformat(draft["period_end"]),
        )
        marked = await self.systems.time.mark_invoiced(marking)
        # Harvest marks by date range: work approved inside the window after the draft was
        # made is marked too, yet billed on no ERP invoice. Say so, never silently.
        extra_time = sorted(set(marked.time_entry_ids) - set(draft.get("time_ids", [])))
        extra_expenses = sorted(set(marked.expense_ids) - set(draft.get("expense_ids", [])))
        effects = Commit()
        if extra_time or extra_expenses:
            exception, event = context.business_exception(
                "WORK_MARKED_BEYOND_INVOICE",
                f"the time-tracking system marked time entries {extra_time} and expenses"
                f" {extra_expenses} as invoiced under {draft['external_id']}, but the ERP"
                " invoice does not bill them: bill them on a manual invoice or unmark them",
                Role.FINANCE,
                time_entry_ids=extra_time,
                expense_ids=extra_expenses,
            )
            effects = Commit(events=(event,), exceptions=(exception,))
        return StepResult(output=marked.model_dump(mode="json"), commit=effects)

    async def _update_crm(self, context: StepContext) -> StepResult:
        draft = await self._draft(context)
        key = EngagementKey(draft["engagement_key"])
        opportunities = await self.systems.crm.get_opportunities_by_engagement([key])
        if not opportunities:
            raise UpstreamRejected(f"no CRM opportunity carries {key}", system="salesforce")
        invoices = await self.systems.erp.get_invoices_by_engagement([key], with_lines=False)
        currency = draft["currency"]
        total = Money.sum([i.total for i in invoices if i.total.currency == currency], currency)
        before = opportunities[0].invoiced_amount
        await self.systems.crm.update_opportunity(
            opportunities[0].id, OpportunityUpdate(invoiced_amount=total.amount)
        )
        post = context.output("post_erp")
        return StepResult(
            output={"invoiced_total": str(total.amount)},
            before={"invoiced": str(before.amount) if before else None},
            after={"invoiced": str(total.amount)},
            result={
                "draft_id": draft["id"],
                "invoice_id": post["invoice_id"],
                "tran_id": post.get("tran_id"),
                "external_id": draft["external_id"],
                "engagement_key": key,
                "total": draft["total"],
                "crm_invoiced_total": str(total.amount),
            },
        )


@dataclass(frozen=True, slots=True)
class RecordPayment:
    systems: Systems
    name: str = "recordPayment"

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step("post_payment", self._pay)]

    async def _pay(self, context: StepContext) -> StepResult:
        data = context.operation.input
        invoice_id = RecordId(str(data["invoice_id"]))
        amount = Money.model_validate(data["amount"])
        [invoice] = await self.systems.erp.get_invoices([invoice_id])
        if invoice.customer_id is None:
            raise _refuse("INVOICE_WITHOUT_CUSTOMER", f"invoice {invoice_id} has no customer")
        digest = hashlib.sha256(context.operation.id.encode()).hexdigest()[:12].upper()
        command = PaymentRecord(
            external_id=f"PAY-{digest}",
            customer_id=invoice.customer_id,
            invoice_id=invoice_id,
            tran_date=date.fromisoformat(str(data["date"])),
            amount=amount,
            idempotency_key=f"{context.operation.id}:post_payment",
        )
        try:
            payment = await self.systems.erp.record_payment(command)
        except UpstreamRejected as refusal:
            raise _refuse("PAYMENT_REFUSED", f"the ERP refused the payment: {refusal}") from refusal
        event = context.event(
            PaymentReceived,
            subject=invoice.engagement_key,
            payment_id=payment.id,
            invoice_id=invoice_id,
            amount=str(amount.amount),
            currency=amount.currency,
        )
        out = {
            "payment_id": payment.id,
            "invoice_id": invoice_id,
            "external_id": command.external_id,
            "amount": amount.model_dump(mode="json"),
            "engagement_key": invoice.engagement_key,
        }
        return StepResult(output=out, commit=Commit(events=(event,)), result=out)
