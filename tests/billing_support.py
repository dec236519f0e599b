"""Billing in tests: the mutations, a whole billing run, and an oracle of what is billable.

`approved_inputs` is the oracle: the approved billable value of an engagement,
input by input, computed from the demo firm's own facts (the records the
sandboxes were seeded from) with the firm's rate card, independently of the
billing engine (`workflows.billing_*`). `input_set_value` prices a set of
inputs the way an invoice line does: hours summed, times the contract rate,
rounded half-even to the cent once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.governance import Role
from domain.ids import EngagementKey
from domain.models import Invoice
from sandboxes.firm import Engagement, Firm
from tests.governance_support import as_role, mutate
from tests.graph_support import GraphClient
from workflows.systems import Systems

__all__ = [
    "GENERATE",
    "PAY",
    "POST",
    "BillingRun",
    "FailMatching",
    "Input",
    "all_erp_invoices",
    "approved_inputs",
    "expense_aliases",
    "input_set_value",
    "run_billing",
    "systems_of",
]

GENERATE = """mutation($eng: String!, $end: Date!, $key: String) {
  generateInvoice(engagementKey: $eng, periodEnd: $end, idempotencyKey: $key) {
    __typename
    ... on InvoiceDraft { operationId draftId externalId total { amount currency }
                          lines { description item quantity amount { amount } sources } }
    ... on InvoiceRejected { operationId code message ownerRole exceptionId
                             violations { code message ownerRole inputKeys } }
    ... on BusinessRejection { operationId code message ownerRole }
    ... on DeadLettered { operationId deadLetterId error }
    ... on TransitionPending { operationId }
  } }"""

POST = """mutation($draft: ID!, $key: String) {
  postInvoice(draftId: $draft, idempotencyKey: $key) {
    __typename
    ... on InvoicePosted { operationId invoiceId externalId total { amount currency }
                           crmInvoicedTotal }
    ... on BusinessRejection { operationId code message ownerRole }
    ... on DeadLettered { operationId deadLetterId error }
    ... on TransitionPending { operationId }
  } }"""

PAY = """mutation($inv: ID!, $amount: Decimal!, $cur: String!, $key: String) {
  recordPayment(invoiceId: $inv, amount: $amount, currency: $cur, date: "2026-10-31",
                idempotencyKey: $key) {
    __typename
    ... on PaymentRecorded { operationId paymentId externalId amount { amount currency } }
    ... on BusinessRejection { operationId code message ownerRole }
    ... on DeadLettered { operationId deadLetterId error }
    ... on TransitionPending { operationId }
  } }"""

CENT = Decimal("0.01")


def systems_of(client: GraphClient) -> Systems:
    systems: Systems = client.app.state.systems
    return systems


@dataclass
class BillingRun:
    """What a billing run did: per engagement, the generation's and the posting's answers."""

    period_end: date
    generated: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted: dict[str, dict[str, Any]] = field(default_factory=dict)  # engagement -> answer
    seconds: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)

    def drafts(self) -> dict[str, dict[str, Any]]:
        return {k: g for k, g in self.generated.items() if g["__typename"] == "InvoiceDraft"}

    def blocked(self) -> dict[str, dict[str, Any]]:
        """Engagements refused for a reason other than having nothing to bill."""
        return {
            k: g
            for k, g in self.generated.items()
            if g["__typename"] != "InvoiceDraft" and g.get("code") != "NOTHING_TO_BILL"
        }

    def summary(self) -> str:
        outcomes = Counter(
            g["__typename"] if g["__typename"] == "InvoiceDraft" else str(g.get("code"))
            for g in self.generated.values()
        )
        blocked: dict[str, list[str]] = defaultdict(list)
        for key, answer in sorted(self.blocked().items()):
            blocked[f"{answer.get('code')} ({answer.get('ownerRole')})"].append(key)
        posted = Counter(p["__typename"] for p in self.posted.values())
        lines = [
            f"billing run through {self.period_end}: {len(self.generated)} engagements"
            f" in {self.seconds:.1f} s",
            f"  generateInvoice outcomes: {dict(sorted(outcomes.items()))}",
            f"  drafts generated: {len(self.drafts())}; postInvoice outcomes: {dict(posted)}",
            f"  engagements billed (invoice posted): {posted.get('InvoicePosted', 0)}",
            "  blocked: "
            + (
                "none"
                if not blocked
                else "; ".join(f"{c}: {', '.join(k)}" for c, k in blocked.items())
            ),
            f"  vendor calls: {self.calls}",
        ]
        return "\n".join(lines)


async def run_billing(
    client: GraphClient, keys: Sequence[str], period_end: date, concurrency: int = 16
) -> BillingRun:
    """generateInvoice for every key, then postInvoice for every draft (FINANCE token)."""
    finance = as_role(client, Role.FINANCE, subject="billing-run")
    gate = asyncio.Semaphore(concurrency)
    run = BillingRun(period_end)
    await client.reset_calls()
    started = time.monotonic()

    async def generate(key: str) -> None:
        async with gate:
            body = await mutate(
                client, GENERATE, {"eng": key, "end": period_end.isoformat()}, headers=finance
            )
        assert body.get("data") and body["data"]["generateInvoice"], (key, body)
        run.generated[key] = body["data"]["generateInvoice"]

    async def post(key: str, draft_id: str) -> None:
        async with gate:
            body = await mutate(client, POST, {"draft": draft_id}, headers=finance)
        assert body.get("data") and body["data"]["postInvoice"], (key, body)
        run.posted[key] = body["data"]["postInvoice"]

    await asyncio.gather(*(generate(k) for k in keys))
    await asyncio.gather(*(post(k, d["draftId"]) for k, d in run.drafts().items()))
    run.seconds = time.monotonic() - started
    run.calls = await client.calls()
    return run


async def all_erp_invoices(client: GraphClient, keys: Iterable[str]) -> list[Invoice]:
    """Every ERP invoice of the engagements, with its lines, read through the ERP adapter."""
    wanted = [EngagementKey(k) for k in sorted(set(keys))]
    return await systems_of(client).erp.get_invoices_by_engagement(wanted, with_lines=True)


@dataclass(frozen=True, slots=True)
class Input:
    """One approved billable input of an engagement, as the firm's records say."""

    key: str  # TE-..., MS-..., EX-..., or a schedule line's description
    kind: str  # "time", "milestone", "schedule", "expense"
    amount: Decimal  # for time: hours x rate, unrounded
    hours: Decimal = Decimal(0)
    rate: Decimal | None = None  # the contract rate for the person's role
    group: str = ""  # how an unbilled remainder is priced: per role for time


def _rate_card(firm: Firm) -> dict[tuple[str, str, str], Decimal]:
    return {(r.version, r.role, r.currency): r.bill_rate for r in firm.rate_card}


def approved_inputs(firm: Firm, engagement: Engagement, period_end: date) -> dict[str, Input]:
    """The engagement's approved billable inputs due by `period_end`, from the firm's facts.

    Time: approved, billable, spent by the period end, priced at the contract's rate card
    version for the person's role in the contract currency. Milestones: accepted, due by the
    period end. Schedule lines (retainer, subscription, fixed fee without milestones): due by
    the period end, keyed by their description (unique per schedule). Expenses: approved,
    billable, spent by the period end.
    """
    key, cur = engagement.key, engagement.currency
    card, roles = _rate_card(firm), {p.key: p.role for p in firm.people}
    found: dict[str, Input] = {}
    for t in firm.time_entries:
        if t.engagement_key == key and t.approved and t.billable and t.spent_date <= period_end:
            role = roles[t.person]
            rate = card[(engagement.rate_card_version, role, cur)]
            found[t.key] = Input(t.key, "time", t.hours * rate, t.hours, rate, f"time:{role}")
    milestones = [m for m in firm.milestones if m.engagement_key == key]
    for m in milestones:
        if m.accepted and m.due_date <= period_end:
            found[m.key] = Input(m.key, "milestone", m.amount, group=m.key)
    fee_models = ("RETAINER", "SUBSCRIPTION", "FIXED_FEE")
    if engagement.billing_model in fee_models and not milestones:
        for schedule in firm.billing_schedules:
            if schedule.engagement_key == key and schedule.kind in ("RECURRING", "FIXED"):
                for line in schedule.lines:
                    if line.date <= period_end:
                        found[line.description] = Input(
                            line.description, "schedule", line.amount, group=line.description
                        )
    for x in firm.expenses:
        if x.engagement_key == key and x.approved and x.billable and x.spent_date <= period_end:
            found[x.key] = Input(x.key, "expense", x.amount, group=f"expense:{x.category}")
    return found


def input_set_value(inputs: Sequence[Input]) -> Decimal:
    """The value of inputs billed together on one line: rounded once, half-even, to the cent."""
    return sum((i.amount for i in inputs), Decimal(0)).quantize(CENT, ROUND_HALF_EVEN)


async def expense_aliases(client: GraphClient, firm: Firm, keys: Sequence[str]) -> dict[str, str]:
    """``expense:<Harvest id>`` -> the firm's expense key (EX-...), for the engagements.

    Harvest expenses carry no external reference, so the gateway bills them under their
    Harvest id while seeded invoices name the firm's key: the same expense under two names.
    They are matched by what both records say (engagement, day, amount, category, notes).
    """
    wanted = [EngagementKey(k) for k in keys]
    found = await systems_of(client).time.get_expenses_by_engagement(wanted)
    facts: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for x in firm.expenses:
        facts[(x.engagement_key, x.spent_date, x.amount, x.category, x.notes)].append(x.key)
    aliases: dict[str, str] = {}
    for expense in sorted(found, key=lambda e: int(e.id)):
        fact = (
            expense.engagement_key,
            expense.spent_date,
            expense.amount.amount,
            expense.category,
            expense.notes,
        )
        assert facts.get(fact), f"Harvest expense {expense.id} matches no expense of the firm"
        aliases[f"expense:{expense.id}"] = facts[fact].pop(0)
    return aliases


class FailMatching:
    """Answers 503 to one sandbox's requests matching (method, path suffix), while `on`.

    Wraps the sandbox app's middleware stack in place, so the transports already handed to
    the gateway see it: a fault for one endpoint (the ERP job, say), not the whole vendor.
    """

    def __init__(self, app: Starlette, method: str, suffix: str) -> None:
        self.inner: ASGIApp = app.middleware_stack or app.build_middleware_stack()
        self.method, self.suffix, self.on, self.failed = method, suffix, True, 0
        app.middleware_stack = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.on
            and scope["type"] == "http"
            and scope["method"] == self.method
            and scope["path"].endswith(self.suffix)
        ):
            self.failed += 1
            await JSONResponse({"error": "injected"}, status_code=503)(scope, receive, send)
            return
        await self.inner(scope, receive, send)
