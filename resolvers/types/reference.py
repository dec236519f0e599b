"""Reference-data types: legal entities, people, rate cards."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain import models
from resolvers.types.common import Money, money

__all__ = ["LegalEntity", "Person", "RateCard", "RateCardRate"]


@strawberry.type(description="A subsidiary in the ERP, with its functional currency.")
class LegalEntity:
    code: str
    name: str
    country: str
    currency: str

    @classmethod
    def from_model(cls, m: models.LegalEntity) -> LegalEntity:
        return cls(code=m.code, name=m.name, country=m.country, currency=m.currency)


@strawberry.type
class Person:
    id: strawberry.ID
    name: str
    email: str
    role: str | None
    legal_entity: str | None
    cost_rate: Money | None
    weekly_capacity_hours: Decimal | None
    is_contractor: bool
    active: bool

    @classmethod
    def from_model(cls, m: models.Person) -> Person:
        return cls(
            id=strawberry.ID(m.id),
            name=m.name,
            email=m.email,
            role=m.role,
            legal_entity=m.legal_entity,
            cost_rate=money(m.cost_rate),
            weekly_capacity_hours=m.weekly_capacity_hours,
            is_contractor=m.is_contractor,
            active=m.active,
        )


@strawberry.type
class RateCardRate:
    role: str
    rate: Money


@strawberry.type(description="Bill rates per role for one rate-card version and currency.")
class RateCard:
    version: str
    currency: str
    rates: list[RateCardRate]

    @classmethod
    def from_model(cls, m: models.RateCard) -> RateCard:
        return cls(
            version=m.version,
            currency=m.currency,
            rates=[RateCardRate(role=r.role, rate=Money.from_model(r.rate)) for r in m.rates],
        )
