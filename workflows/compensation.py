"""Compensation: what discarding a dead-lettered operation undoes.

* activation: a PSA project created for an engagement whose activation is
  abandoned is archived, so no one staffs or books time on a project that will
  never be billed. ERP records (customer, job, schedule) are left as they are:
  the ERP keeps them for audit, and a later activation finds them again by
  external ID instead of creating duplicates;
* postInvoice: inputs claimed for a draft whose ERP invoice was never created
  are released, so a later draft can bill them.
"""

from __future__ import annotations

import json

from domain.ids import RecordId
from domain.operations import Commit, Operation
from domain.store import GovernanceStore
from workflows.activation import ACTIVATION
from workflows.billing import draft_record
from workflows.deadletters import Compensation
from workflows.systems import Systems

__all__ = ["compensations"]


def compensations(systems: Systems, store: GovernanceStore) -> dict[str, Compensation]:
    async def activation(operation: Operation) -> list[str]:
        if not operation.done("create_psa_project"):
            return []
        project_id = RecordId(str(operation.output("create_psa_project")["project_id"]))
        await systems.psa.archive_project(project_id)
        return [f"archived PSA project {project_id}"]

    async def post_invoice(operation: Operation) -> list[str]:
        """A post given up before the ERP invoice exists gives its inputs back (they stay
        billable on a later draft); once the ERP has the invoice they stay claimed."""
        if not operation.done("claim") or operation.done("post_erp"):
            return []
        raw = await store.get_record(draft_record(str(operation.input["draft_id"])))
        if raw is None:
            return []
        draft = json.loads(raw)
        keys = tuple(draft["input_keys"])
        await store.commit(
            operation.id,
            step=None,
            commit=Commit(release_claims=keys, claim_owner=draft["external_id"]),
        )
        return [f"released {len(keys)} billing input claim(s) of draft {draft['id']}"]

    return {ACTIVATION: activation, "postInvoice": post_invoice}
