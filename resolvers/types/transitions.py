"""Success types of the delivery and sales transitions (each built from its operation's result)."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.types.governance import DeadLetter, Operation, PolicyCheck

__all__ = [
    "DeadLetterDiscarded",
    "DeadLetterReplayed",
    "EngagementActivated",
    "ExceptionResolved",
    "ExpensesApproved",
    "MilestoneAccepted",
    "OpportunityWon",
    "ResourceAssigned",
    "TimeEntriesApproved",
    "TimeEntriesRejected",
]


@strawberry.type(description="The deal is Closed Won; activation starts on its own.")
class OpportunityWon:
    operation_id: strawberry.ID
    opportunity_id: strawberry.ID
    engagement_key: str | None
    checks: list[PolicyCheck]


@strawberry.type(description="Customer, PSA and ERP projects and billing schedule are set up.")
class EngagementActivated:
    operation_id: strawberry.ID
    engagement_key: str
    erp_customer_id: str
    psa_project_id: str
    erp_project_id: str
    billing_schedule_id: str

    @classmethod
    def from_result(cls, op_id: strawberry.ID, r: dict[str, Any]) -> EngagementActivated:
        return cls(
            operation_id=op_id,
            engagement_key=str(r["engagement_key"]),
            erp_customer_id=str(r["erp_customer_id"]),
            psa_project_id=str(r["psa_project_id"]),
            erp_project_id=str(r["erp_project_id"]),
            billing_schedule_id=str(r["billing_schedule_id"]),
        )


@strawberry.type
class ResourceAssigned:
    operation_id: strawberry.ID
    engagement_key: str
    assignment_id: str

    @classmethod
    def from_result(cls, op_id: strawberry.ID, r: dict[str, Any]) -> ResourceAssigned:
        return cls(
            operation_id=op_id,
            engagement_key=str(r["engagement_key"]),
            assignment_id=str(r["assignment_id"]),
        )


@strawberry.type
class TimeEntriesApproved:
    operation_id: strawberry.ID
    approved_ids: list[str]
    already_approved_ids: list[str]

    @classmethod
    def from_result(cls, op_id: strawberry.ID, r: dict[str, Any]) -> TimeEntriesApproved:
        return cls(
            operation_id=op_id,
            approved_ids=list(r.get("approved", [])),
            already_approved_ids=list(r.get("already_approved", [])),
        )


@strawberry.type
class TimeEntriesRejected:
    operation_id: strawberry.ID
    rejected_ids: list[str]
    reason: str

    @classmethod
    def from_result(cls, op_id: strawberry.ID, r: dict[str, Any]) -> TimeEntriesRejected:
        return cls(
            operation_id=op_id, rejected_ids=list(r.get("rejected", [])), reason=str(r["reason"])
        )


@strawberry.type
class ExpensesApproved:
    operation_id: strawberry.ID
    approved_ids: list[str]

    @classmethod
    def from_result(cls, op_id: strawberry.ID, r: dict[str, Any]) -> ExpensesApproved:
        return cls(operation_id=op_id, approved_ids=list(r.get("approved", [])))


@strawberry.type
class MilestoneAccepted:
    operation_id: strawberry.ID
    milestone_id: str
    engagement_key: str | None

    @classmethod
    def from_result(cls, op_id: strawberry.ID, r: dict[str, Any]) -> MilestoneAccepted:
        return cls(
            operation_id=op_id,
            milestone_id=str(r["milestone_id"]),
            engagement_key=r.get("engagement_key"),
        )


@strawberry.type
class ExceptionResolved:
    operation_id: strawberry.ID
    exception_id: str
    resolution: str

    @classmethod
    def from_result(cls, op_id: strawberry.ID, r: dict[str, Any]) -> ExceptionResolved:
        return cls(
            operation_id=op_id,
            exception_id=str(r["exception_id"]),
            resolution=str(r["resolution"]),
        )


@strawberry.type
class DeadLetterReplayed:
    dead_letter: DeadLetter
    operation: Operation | None = strawberry.field(
        description="The resumed operation; null when the dead letter held an event, which"
        " was handled again."
    )


@strawberry.type
class DeadLetterDiscarded:
    dead_letter: DeadLetter
    compensated: list[str]
