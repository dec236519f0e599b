"""Shared GraphQL building blocks: Money, enums, Relay-style connections."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Generic, TypeVar

import strawberry

from domain.engagement import EngagementStatus
from domain.models import (
    ApprovalStatus,
    BillingModel,
    BillingScheduleKind,
    CustomerStatus,
    InvoiceStatus,
    MilestoneState,
    ProjectStatus,
)
from domain.money import Money as DomainMoney
from workflows.engagements import EngagementOrder
from workflows.paging import Page

__all__ = [
    "Connection",
    "Edge",
    "Money",
    "PageInfo",
    "connection_from",
    "money",
]

# The domain's enums are the GraphQL enums (same names, same values).
for _enum in (
    ApprovalStatus,
    BillingModel,
    BillingScheduleKind,
    CustomerStatus,
    EngagementOrder,
    EngagementStatus,
    InvoiceStatus,
    MilestoneState,
    ProjectStatus,
):
    strawberry.enum(_enum)

T = TypeVar("T")
M = TypeVar("M")


@strawberry.type(description="An exact amount in an ISO 4217 currency.")
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def from_model(cls, m: DomainMoney) -> Money:
        return cls(amount=m.amount, currency=m.currency)


def money(m: DomainMoney | None) -> Money | None:
    return None if m is None else Money.from_model(m)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Items matching, over all pages.")

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection_from(page: Page[M], convert: Callable[[M], T]) -> Connection[T]:
    edges = [Edge(cursor=page.cursor(i), node=convert(item)) for i, item in enumerate(page.items)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total,
    )
