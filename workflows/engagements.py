"""Engagements: joining the CRM opportunity and the PSA project by engagement key.

The CRM knows the deal (name, billing model, service line, legal entity,
amount); the PSA knows whether delivery runs. `engagement_from` derives the
lifecycle status from both. `list_engagements` reads the CRM once and the PSA
once (for the won deals only), then filters and orders in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.engagement import Engagement, EngagementStatus
from domain.errors import AdapterError
from domain.ids import CustomerKey, EngagementKey
from domain.models import BillingModel, Opportunity, Project, ProjectStatus
from workflows.systems import Systems

__all__ = [
    "EngagementFilter",
    "EngagementListing",
    "EngagementOrder",
    "engagement_from",
    "list_engagements",
]


class EngagementOrder(StrEnum):
    KEY_ASC = "KEY_ASC"
    KEY_DESC = "KEY_DESC"
    NAME_ASC = "NAME_ASC"
    CLOSE_DATE_DESC = "CLOSE_DATE_DESC"
    BOOKED_VALUE_DESC = "BOOKED_VALUE_DESC"


@dataclass(frozen=True, slots=True)
class EngagementFilter:
    legal_entity: str | None = None
    status: EngagementStatus | None = None
    billing_model: BillingModel | None = None
    customer_key: CustomerKey | None = None
    service_line: str | None = None
    text: str | None = None

    def matches(self, e: Engagement) -> bool:
        checks: list[tuple[Any, Any]] = [
            (self.legal_entity, e.legal_entity),
            (self.status, e.status),
            (self.billing_model, e.billing_model),
            (self.customer_key, e.customer_key),
            (self.service_line, e.service_line),
        ]
        if any(wanted is not None and wanted != actual for wanted, actual in checks):
            return False
        if self.text:
            needle = self.text.casefold()
            return needle in e.name.casefold() or needle in e.key.casefold()
        return True


def engagement_status(opportunity: Opportunity, project: Project | None) -> EngagementStatus:
    if opportunity.is_closed and not opportunity.is_won:
        return EngagementStatus.LOST
    if not opportunity.is_won:
        return EngagementStatus.QUALIFYING
    if project is None:
        return EngagementStatus.WON
    if project.archived or project.status in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED):
        return EngagementStatus.COMPLETED
    return EngagementStatus.ACTIVE


def engagement_from(
    opportunity: Opportunity, project: Project | None, *, project_known: bool = True
) -> Engagement | None:
    """The engagement an opportunity stands for; None if it carries no engagement key.

    `project_known=False` says the PSA could not be asked: a won deal's status
    is then unknown (None) rather than guessed.
    """
    if opportunity.engagement_key is None:
        return None
    amount = opportunity.amount
    unknown = opportunity.is_won and not project_known
    return Engagement(
        key=opportunity.engagement_key,
        name=opportunity.name,
        status=None if unknown else engagement_status(opportunity, project),
        billing_model=opportunity.billing_model,
        service_line=opportunity.service_line,
        legal_entity=opportunity.legal_entity,
        rate_card_version=opportunity.rate_card_version,
        currency=amount.currency if amount else None,
        booked_value=amount,
        close_date=opportunity.close_date,
        customer_key=opportunity.customer_key,
        customer_name=opportunity.account_name,
        opportunity_id=opportunity.id,
        project_id=project.id if project else None,
    )


_ORDERS: dict[EngagementOrder, tuple[Callable[[Engagement], Any], bool]] = {
    EngagementOrder.KEY_ASC: (lambda e: e.key, False),
    EngagementOrder.KEY_DESC: (lambda e: e.key, True),
    EngagementOrder.NAME_ASC: (lambda e: (e.name.casefold(), e.key), False),
    EngagementOrder.CLOSE_DATE_DESC: (
        lambda e: (e.close_date.isoformat() if e.close_date else "", e.key),
        True,
    ),
    EngagementOrder.BOOKED_VALUE_DESC: (
        lambda e: (e.booked_value.amount if e.booked_value else 0, e.key),
        True,
    ),
}


def ordered(engagements: Iterable[Engagement], order: EngagementOrder) -> list[Engagement]:
    key, reverse = _ORDERS[order]
    return sorted(engagements, key=key, reverse=reverse)


@dataclass(frozen=True, slots=True)
class EngagementListing:
    engagements: list[Engagement]
    opportunities: dict[EngagementKey, Opportunity]
    projects: dict[EngagementKey, Project | None]  # empty when the PSA could not be read


async def list_engagements(
    systems: Systems, where: EngagementFilter, order: EngagementOrder
) -> EngagementListing:
    """Every engagement matching `where`, in `order`, with the records it was built from."""
    opportunities = {
        o.engagement_key: o for o in await systems.crm.list_opportunities() if o.engagement_key
    }
    won: Sequence[EngagementKey] = sorted(k for k, o in opportunities.items() if o.is_won)
    projects: dict[EngagementKey, Project | None] = {}
    known = True
    try:
        found = await systems.psa.get_projects_by_engagement(won) if won else []
    except AdapterError:
        if where.status is not None:
            raise  # cannot filter by a status nobody can tell
        known = False
    else:
        projects = dict.fromkeys(won, None)
        projects.update({p.engagement_key: p for p in found if p.engagement_key in projects})
    built = (
        engagement_from(o, projects.get(k), project_known=known) for k, o in opportunities.items()
    )
    matching = [e for e in built if e is not None and where.matches(e)]
    return EngagementListing(ordered(matching, order), opportunities, projects)
