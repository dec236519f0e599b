"""Reading one engagement's billing facts from the four systems (for the billing engine).

The contract terms come from the ERP project (billing model, rate card
version, not-to-exceed cap) and its legal entity; the inputs from the time
tracking system (time, expenses, who worked in which role), the PSA
(milestones) and the ERP (billing schedule, posted invoices with their lines).
Inputs already claimed in the store by an invoice count as billed as well as
those on posted invoice lines, so a draft never bills what another posting
has claimed but not yet written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from domain.errors import BusinessRuleViolation
from domain.governance import Role
from domain.ids import EngagementKey, RecordId
from domain.models import ErpProject, Invoice
from domain.money import Money
from domain.store import GovernanceStore
from workflows.billing_types import BillingInputs
from workflows.systems import Systems

__all__ = ["BillingContext", "read_billing_inputs"]

HISTORY_DAYS = 730  # how far back unbilled work is looked for


@dataclass(frozen=True, slots=True)
class BillingContext:
    """The billing inputs plus what posting needs: who and where the ERP invoice goes."""

    inputs: BillingInputs
    project: ErpProject
    invoices: tuple[Invoice, ...]


def _refuse(code: str, message: str, role: Role = Role.FINANCE) -> BusinessRuleViolation:
    return BusinessRuleViolation(message, owner_role=role, code=code)


async def read_billing_inputs(
    systems: Systems,
    store: GovernanceStore,
    key: EngagementKey,
    period_end: date,
    closed_through: date | None,
) -> BillingContext:
    projects, psa_projects = await asyncio.gather(
        systems.erp.get_erp_projects_by_engagement([key]),
        systems.psa.get_projects_by_engagement([key]),
    )
    if not projects or not psa_projects:
        raise _refuse(
            "ENGAGEMENT_NOT_ACTIVE",
            f"{key} is not active (no {'ERP' if not projects else 'PSA'} project):"
            " activate it before invoicing",
            Role.PMO,
        )
    project = projects[0]
    if project.billing_model is None:
        raise _refuse("CONTRACT_TERMS_MISSING", f"{key}: the ERP project has no billing model")
    since = period_end - timedelta(days=HISTORY_DAYS)
    entities, cards, people, schedules = await asyncio.gather(
        systems.erp.list_legal_entities(),
        systems.psa.list_rate_cards(),
        systems.time.list_people(),
        systems.erp.get_billing_schedules_by_engagement([key]),
    )
    invoices, milestones, entries, expenses = await asyncio.gather(
        systems.erp.get_invoices_by_engagement([key], with_lines=True),
        systems.psa.get_milestones([key]),
        systems.time.get_time_entries_by_engagement([key], date_from=since, date_to=period_end),
        systems.time.get_expenses_by_engagement([key], date_from=since, date_to=period_end),
    )
    entity = next((e for e in entities if e.id == project.subsidiary_id), None)
    if entity is None:
        raise _refuse("LEGAL_ENTITY_UNKNOWN", f"{key}: the ERP project's subsidiary is unknown")
    currency = _contract_currency(project, invoices, entity.currency)
    card = next(
        (c for c in cards if c.version == project.rate_card_version and c.currency == currency),
        None,
    )
    sources = {s for invoice in invoices for line in invoice.lines for s in line.sources}
    candidates = [e.external_ref for e in entries if e.external_ref]
    candidates += [x.external_ref for x in expenses if x.external_ref]
    candidates += [m.external_ref for m in milestones if m.external_ref]
    claimed = await store.claims(candidates)
    billed_total = Money.sum([i.total for i in invoices if i.total.currency == currency], currency)
    schedule = schedules[0] if schedules else None
    inputs = BillingInputs(
        engagement_key=key,
        billing_model=project.billing_model,
        currency=currency,
        legal_entity_currency=entity.currency,
        rate_card_version=project.rate_card_version,
        rate_card=card,
        not_to_exceed=project.not_to_exceed,
        billed_total=billed_total,
        period_end=period_end,
        closed_through=closed_through,
        time_entries=entries,
        expenses=expenses,
        milestones=milestones,
        schedule_lines=schedule.lines if schedule else (),
        schedule_kind=schedule.kind if schedule else None,
        people_roles={RecordId(p.id): p.role for p in people if p.role},
        billed_sources=frozenset(sources | set(claimed)),
        invoices=invoices,
    )
    return BillingContext(inputs=inputs, project=project, invoices=tuple(invoices))


def _contract_currency(project: ErpProject, invoices: list[Invoice], fallback: str) -> str:
    if project.not_to_exceed is not None:
        return project.not_to_exceed.currency
    if invoices:
        return invoices[0].total.currency
    return fallback
