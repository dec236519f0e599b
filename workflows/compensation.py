"""Compensation: what discarding a dead-lettered operation undoes.

Only the activation saga defines one: a PSA project created for an engagement
whose activation is abandoned is archived, so no one staffs or books time on
a project that will never be billed. ERP records (customer, job, schedule) are
left as they are: the ERP keeps them for audit, and a later activation finds
them again by external ID instead of creating duplicates.
"""

from __future__ import annotations

from domain.ids import RecordId
from domain.operations import Operation
from workflows.activation import ACTIVATION
from workflows.deadletters import Compensation
from workflows.systems import Systems

__all__ = ["compensations"]


def compensations(systems: Systems) -> dict[str, Compensation]:
    async def activation(operation: Operation) -> list[str]:
        if not operation.done("create_psa_project"):
            return []
        project_id = RecordId(str(operation.output("create_psa_project")["project_id"]))
        await systems.psa.archive_project(project_id)
        return [f"archived PSA project {project_id}"]

    return {ACTIVATION: activation}
