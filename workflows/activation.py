"""The activation saga: a won deal becomes a customer, two projects and a billing schedule.

Steps, each idempotent towards its system with a key derived from
(engagementKey, step), each journaled before and committed after it runs:

1. ``plan`` - read the won opportunity, its lines, the ERP's legal entities and
   dimensions and the service catalogue; fix every command the saga will send
   (a resumed saga sends exactly what it planned, even if the CRM changed since);
2. ``upsert_erp_customer`` - PUT by the customer's master key (externalId);
3. ``create_psa_project`` - from the service line's template, keyed by engagement;
4. ``create_psa_milestones`` - MILESTONE deals: one milestone per dated line;
5. ``create_erp_project`` - the job with subsidiary, department, class, location;
6. ``create_billing_schedule`` - per billing model; commits ``project.activated``.

Compensation: a PSA project whose saga is discarded is archived (see
workflows/deadletters.py); the ERP records stay, since the ERP keeps an audit
of them and a re-activation finds them by external ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.catalog import ServiceCatalog
from domain.commands import (
    BillingScheduleCreate,
    CustomerUpsert,
    ErpProjectCreate,
    MilestoneCreate,
    ProjectCreate,
)
from domain.errors import BusinessRuleViolation
from domain.events import ProjectActivated
from domain.governance import Role
from domain.ids import CustomerKey, EngagementKey, RecordId
from domain.models import BillingModel, Opportunity
from domain.operations import Commit, Operation
from workflows.activation_plan import plan_schedule
from workflows.journal_context import StepContext
from workflows.operations import Step, StepResult
from workflows.systems import Systems

__all__ = ["ACTIVATION", "Activation", "activation_id"]

ACTIVATION = "activation"


def activation_id(engagement_key: str) -> str:
    """One activation per engagement, whoever starts it (a mutation or `opportunity.won`)."""
    return f"{ACTIVATION}:{engagement_key}"


def _refuse(code: str, message: str, role: Role) -> BusinessRuleViolation:
    return BusinessRuleViolation(message, owner_role=role, code=code)


@dataclass(frozen=True, slots=True)
class Activation:
    systems: Systems
    catalog: ServiceCatalog
    name: str = ACTIVATION

    def steps(self, operation: Operation) -> Sequence[Step]:
        steps = [
            Step("plan", self._plan),
            Step("upsert_erp_customer", self._upsert_customer),
            Step("create_psa_project", self._create_psa_project),
        ]
        if operation.output("plan").get("billing_model") == BillingModel.MILESTONE:
            steps.append(Step("create_psa_milestones", self._create_milestones))
        steps += [
            Step("create_erp_project", self._create_erp_project),
            Step("create_billing_schedule", self._create_schedule),
        ]
        return steps

    # --- 1. plan ---------------------------------------------------------------------------
    async def _opportunity(self, key: EngagementKey) -> Opportunity:
        found = await self.systems.crm.get_opportunities_by_engagement([key])
        if not found:
            raise _refuse("OPPORTUNITY_NOT_FOUND", f"no CRM opportunity has {key}", Role.SALES_OPS)
        return found[0]

    async def _plan(self, context: StepContext) -> StepResult:
        key = EngagementKey(str(context.operation.input["engagement_key"]))
        opportunity = await self._opportunity(key)
        if not opportunity.is_won:
            raise _refuse(
                "OPPORTUNITY_NOT_WON",
                f"{key}: the opportunity is {opportunity.stage!r}, not Closed Won;"
                " only a won deal is activated",
                Role.SALES,
            )
        plan = await self._build_plan(key, opportunity)
        return StepResult(output=plan, after={"plan": plan["billing_model"]})

    async def _build_plan(self, key: EngagementKey, o: Opportunity) -> dict[str, Any]:
        entities = await self.systems.erp.list_legal_entities()
        entity = next((e for e in entities if e.code == o.legal_entity), None)
        line = self.catalog.service_line(o.service_line)
        missing = [
            what
            for what, value in (
                ("customer key", o.customer_key),
                ("legal entity", entity),
                ("service line", line),
                ("billing model", o.billing_model),
                ("amount", o.amount),
                ("delivery window", o.start_date and o.end_date),
            )
            if not value
        ]
        if missing:
            raise _refuse(
                "ACTIVATION_DATA_MISSING",
                f"{key} cannot be activated: the deal lacks {', '.join(missing)}",
                Role.SALES_OPS,
            )
        assert entity and line and o.billing_model and o.amount and o.start_date and o.end_date
        assert o.customer_key
        dims = await self.systems.erp.list_dimensions()
        location_code = self.catalog.default_location(entity.code)
        dimension_ids = {
            "department": dims.departments.get(line.department_code),
            "class": dims.classes.get(line.class_code),
            "location": (dims.locations.get(location_code or "") or None),
        }
        absent = [name for name, value in dimension_ids.items() if value is None]
        if absent:
            raise _refuse(
                "ERP_DIMENSION_MISSING",
                f"{key}: the ERP has no {', '.join(absent)} for service line {line.code}"
                f" / legal entity {entity.code} (catalogue codes {line.department_code},"
                f" {line.class_code}, {location_code})",
                Role.FINANCE,
            )
        lines = await self.systems.crm.get_opportunity_lines([o.id])
        kind, frequency, schedule = plan_schedule(
            o.billing_model, o.amount, o.start_date, o.end_date, lines
        )
        location = dims.locations[location_code or ""]
        return {
            "opportunity_id": o.id,
            "billing_model": o.billing_model,
            "customer": CustomerUpsert(
                key=CustomerKey(o.customer_key),
                name=o.account_name or o.customer_key,
                subsidiary_id=entity.id,
            ).model_dump(mode="json"),
            "project": ProjectCreate(
                engagement_key=key,
                name=o.name,
                template=line.project_template,
                start_date=o.start_date,
                end_date=o.end_date,
                budget=o.amount,
            ).model_dump(mode="json"),
            "erp_project": {
                "engagement_key": key,
                "name": o.name,
                "subsidiary_id": entity.id,
                "department_id": dims.departments[line.department_code],
                "class_id": dims.classes[line.class_code],
                "location_id": location.id,
                "start_date": o.start_date.isoformat(),
                "end_date": o.end_date.isoformat(),
                "billing_model": o.billing_model,
                "rate_card_version": o.rate_card_version,
                "not_to_exceed": o.amount.model_dump(mode="json")
                if o.billing_model is BillingModel.FIXED_FEE
                else None,
            },
            "schedule": {
                "kind": kind,
                "frequency": frequency,
                "lines": [s.model_dump(mode="json") for s in schedule],
            },
            "milestones": [
                {
                    "external_ref": f"MS-{key}-{n}",
                    "title": s.description,
                    "due_date": s.date.isoformat(),
                    "amount": s.amount.model_dump(mode="json") if s.amount else None,
                }
                for n, s in enumerate(schedule, start=1)
            ]
            if o.billing_model is BillingModel.MILESTONE
            else [],
        }

    # --- 2..6 -------------------------------------------------------------------------------
    async def _upsert_customer(self, context: StepContext) -> StepResult:
        command = CustomerUpsert.model_validate(context.output("plan")["customer"])
        customer = await self.systems.erp.upsert_customer(command)
        return StepResult(output={"customer_id": customer.id, "customer_key": customer.key})

    async def _create_psa_project(self, context: StepContext) -> StepResult:
        command = ProjectCreate.model_validate(context.output("plan")["project"])
        project = await self.systems.psa.create_project(command)
        return StepResult(output={"project_id": project.id})

    async def _create_milestones(self, context: StepContext) -> StepResult:
        key = EngagementKey(str(context.operation.input["engagement_key"]))
        created: list[str] = []
        for item in context.output("plan")["milestones"]:
            command = MilestoneCreate.model_validate({"engagement_key": key, **item})
            milestone = await self.systems.psa.create_milestone(command)
            created.append(milestone.id)
        return StepResult(output={"milestone_ids": created})

    async def _create_erp_project(self, context: StepContext) -> StepResult:
        key = str(context.operation.input["engagement_key"])
        command = ErpProjectCreate.model_validate(
            {
                **context.output("plan")["erp_project"],
                "customer_id": context.output("upsert_erp_customer")["customer_id"],
                "idempotency_key": f"{key}:create_erp_project",
            }
        )
        project = await self.systems.erp.create_erp_project(command)
        return StepResult(output={"erp_project_id": project.id})

    async def _create_schedule(self, context: StepContext) -> StepResult:
        key = EngagementKey(str(context.operation.input["engagement_key"]))
        plan = context.output("plan")
        erp_project_id = RecordId(context.output("create_erp_project")["erp_project_id"])
        command = BillingScheduleCreate.model_validate(
            {
                **plan["schedule"],
                "engagement_key": key,
                "erp_project_id": erp_project_id,
                "idempotency_key": f"{key}:create_billing_schedule",
            }
        )
        schedule = await self.systems.erp.create_billing_schedule(command)
        ids = {
            "erp_customer_id": context.output("upsert_erp_customer")["customer_id"],
            "psa_project_id": context.output("create_psa_project")["project_id"],
            "erp_project_id": erp_project_id,
            "billing_schedule_id": schedule.id,
        }
        event = context.event(ProjectActivated, opportunity_id=plan["opportunity_id"], **ids)
        return StepResult(
            output={"billing_schedule_id": schedule.id},
            commit=Commit(events=(event,)),
            result={"engagement_key": key, **ids},
        )
