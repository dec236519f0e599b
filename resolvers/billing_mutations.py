"""Billing mutations: generate a draft invoice, post it, record a payment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from domain.errors import InvalidInput
from domain.governance import Role
from domain.money import Money as DomainMoney
from domain.operations import Operation as DomainOperation
from domain.operations import OperationStatus
from resolvers.context import Info
from resolvers.ids import node_id_or_natural
from resolvers.transition_support import (
    caller_of,
    governance_of,
    key_of,
    outcome,
    run_transition,
)
from resolvers.types.common import Money
from resolvers.types.governance import (
    BusinessRejection,
    DeadLettered,
    TransitionPending,
    rejection_or_pending,
)

__all__ = ["BillingMutation"]


@strawberry.type(description="A contract rule the draft breaks, and who must act.")
class BillingViolation:
    code: str
    message: str
    owner_role: Role
    input_keys: list[str]


@strawberry.type
class DraftLine:
    description: str
    item: str
    quantity: Decimal
    rate: Money
    amount: Money
    sources: list[str] = strawberry.field(description="The billing inputs this line bills.")


@strawberry.type(description="A draft invoice: every line traceable to its inputs.")
class InvoiceDraft:
    operation_id: strawberry.ID
    draft_id: strawberry.ID
    engagement_key: str
    period_end: date
    external_id: str
    total: Money
    lines: list[DraftLine]
    notes: list[BillingViolation] = strawberry.field(
        description="Informational findings (inputs already billed and left out)."
    )


@strawberry.type(description="The draft breaks contract rules; nothing can be posted.")
class InvoiceRejected:
    operation_id: strawberry.ID
    code: str
    message: str
    owner_role: Role
    exception_id: str | None
    violations: list[BillingViolation]


@strawberry.type(description="Posted to the ERP; inputs marked billed; CRM total updated.")
class InvoicePosted:
    operation_id: strawberry.ID
    draft_id: strawberry.ID
    invoice_id: strawberry.ID
    tran_id: str | None
    external_id: str
    total: Money
    crm_invoiced_total: Decimal

    @classmethod
    def from_result(cls, op_id: strawberry.ID, r: dict[str, Any]) -> InvoicePosted:
        return cls(
            operation_id=op_id,
            draft_id=strawberry.ID(r["draft_id"]),
            invoice_id=strawberry.ID(r["invoice_id"]),
            tran_id=r.get("tran_id"),
            external_id=r["external_id"],
            total=_money(r["total"]),
            crm_invoiced_total=Decimal(r["crm_invoiced_total"]),
        )


@strawberry.type
class PaymentRecorded:
    operation_id: strawberry.ID
    payment_id: strawberry.ID
    invoice_id: strawberry.ID
    external_id: str
    amount: Money

    @classmethod
    def from_result(cls, op_id: strawberry.ID, r: dict[str, Any]) -> PaymentRecorded:
        return cls(
            operation_id=op_id,
            payment_id=strawberry.ID(r["payment_id"]),
            invoice_id=strawberry.ID(r["invoice_id"]),
            external_id=r["external_id"],
            amount=_money(r["amount"]),
        )


Failure = BusinessRejection | DeadLettered | TransitionPending
GenerateInvoiceResult = Annotated[
    InvoiceDraft | InvoiceRejected | Failure, strawberry.union("GenerateInvoiceResult")
]
PostInvoiceResult = Annotated[InvoicePosted | Failure, strawberry.union("PostInvoiceResult")]
RecordPaymentResult = Annotated[PaymentRecorded | Failure, strawberry.union("RecordPaymentResult")]


def _money(data: dict[str, Any]) -> Money:
    return Money.from_model(DomainMoney.model_validate(data))


def _violations(items: list[dict[str, Any]]) -> list[BillingViolation]:
    return [
        BillingViolation(
            code=str(v["code"]),
            message=str(v["message"]),
            owner_role=Role(v["owner_role"]),
            input_keys=list(v.get("input_keys", [])),
        )
        for v in items
    ]


def _draft(op: DomainOperation) -> InvoiceDraft | InvoiceRejected | Failure:
    r = op.result or {}
    if op.status is OperationStatus.REJECTED and "violations" in r:
        return InvoiceRejected(
            operation_id=strawberry.ID(op.id),
            code=str(r.get("code")),
            message=str(r.get("message")),
            owner_role=Role(str(r.get("owner_role", Role.FINANCE))),
            exception_id=r.get("exception_id"),
            violations=_violations(r["violations"]),
        )
    if op.status is not OperationStatus.SUCCEEDED:
        return rejection_or_pending(op)
    d = r["draft"]
    return InvoiceDraft(
        operation_id=strawberry.ID(op.id),
        draft_id=strawberry.ID(d["id"]),
        engagement_key=d["engagement_key"],
        period_end=date.fromisoformat(d["period_end"]),
        external_id=d["external_id"],
        total=_money(d["total"]),
        lines=[
            DraftLine(
                description=line["description"],
                item=line["item"],
                quantity=Decimal(str(line["quantity"])),
                rate=_money(line["rate"]),
                amount=_money(line["amount"]),
                sources=list(line.get("sources", [])),
            )
            for line in d["lines"]
        ],
        notes=_violations(d.get("violations", [])),
    )


@strawberry.type
class BillingMutation:
    @strawberry.mutation(description="Draft the engagement's invoice through periodEnd.")
    async def generate_invoice(
        self,
        info: Info,
        engagement_key: str,
        period_end: date,
        idempotency_key: str | None = None,
    ) -> GenerateInvoiceResult:
        g = governance_of(info)
        op = await run_transition(
            info,
            g.generate_invoice(
                engagement_key, period_end, caller_of(info), key_of(info, idempotency_key)
            ),
        )
        return _draft(op)

    @strawberry.mutation(description="Post a draft to the ERP (once), mark its inputs billed.")
    async def post_invoice(
        self, info: Info, draft_id: strawberry.ID, idempotency_key: str | None = None
    ) -> PostInvoiceResult:
        g = governance_of(info)
        op = await run_transition(
            info, g.post_invoice(str(draft_id), caller_of(info), key_of(info, idempotency_key))
        )
        return outcome(op, InvoicePosted.from_result)

    @strawberry.mutation(description="Post a customer payment against an invoice in the ERP.")
    async def record_payment(
        self,
        info: Info,
        invoice_id: strawberry.ID,
        amount: Decimal,
        currency: str,
        date: date,
        idempotency_key: str | None = None,
    ) -> RecordPaymentResult:
        g = governance_of(info)

        async def run() -> DomainOperation:
            invoice = node_id_or_natural(str(invoice_id), "Invoice")
            try:
                money = DomainMoney(amount=amount, currency=currency)
            except ValueError as exc:
                raise InvalidInput(f"not an amount of money: {exc}") from exc
            return await g.record_payment(
                invoice, money, date, caller_of(info), key_of(info, idempotency_key)
            )

        op = await run_transition(info, run())
        return outcome(op, PaymentRecorded.from_result)
