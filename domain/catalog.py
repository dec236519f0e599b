"""The service catalogue: what the firm sells and how a deal becomes a project.

Per service line: its ERP dimensions (department, class), the PSA project
template a won deal is set up from, the roles it staffs and the billing models
it may be sold under. Per legal entity: the ERP location a project defaults to.
The catalogue is configuration (gateway/service_catalog.json), read once at
start-up; the policy checks and the activation saga read it, never a vendor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.models import BillingModel

__all__ = ["EntityDefaults", "ServiceCatalog", "ServiceLineSpec"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


class ServiceLineSpec(_Frozen):
    """One service line, e.g. ``CLOUD``: dimensions, template, roles, billing models."""

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    department_code: str = Field(min_length=1)
    class_code: str = Field(min_length=1)
    project_template: str = Field(min_length=1)
    roles: tuple[str, ...] = Field(min_length=1)
    billing_models: tuple[BillingModel, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _no_repeats(self) -> Self:
        for label, values in (("roles", self.roles), ("billing_models", self.billing_models)):
            repeated = _duplicates(str(v) for v in values)
            if repeated:
                raise ValueError(f"service line {self.code}: {label} repeated: {repeated}")
        return self

    def allows(self, model: BillingModel) -> bool:
        return model in self.billing_models


class EntityDefaults(_Frozen):
    """Defaults per legal entity (by its code, e.g. ``US``)."""

    legal_entity_code: str = Field(min_length=1)
    default_location_code: str = Field(min_length=1)


class ServiceCatalog(_Frozen):
    """Every service line and legal-entity default; codes are unique."""

    service_lines: tuple[ServiceLineSpec, ...]
    legal_entities: tuple[EntityDefaults, ...] = ()

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        lines = _duplicates(line.code for line in self.service_lines)
        if lines:
            raise ValueError(f"service line codes repeated: {lines}")
        entities = _duplicates(e.legal_entity_code for e in self.legal_entities)
        if entities:
            raise ValueError(f"legal entity codes repeated: {entities}")
        return self

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(line.code for line in self.service_lines)

    def service_line(self, code: str | None) -> ServiceLineSpec | None:
        """The service line called ``code``, or None if the catalogue has none."""
        return next((line for line in self.service_lines if line.code == code), None)

    def default_location(self, legal_entity_code: str | None) -> str | None:
        """The location code a project of that legal entity defaults to, if configured."""
        return next(
            (
                e.default_location_code
                for e in self.legal_entities
                if e.legal_entity_code == legal_entity_code
            ),
            None,
        )
