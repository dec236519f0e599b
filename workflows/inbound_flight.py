"""Which vendor records our own transitions are working on right now.

A transition changes the vendor first and commits its event after; in between, the
inbound sync can already see the change. It leaves such a record alone (the
transition announces it, with its own actor and causation) as long as the
transition is RUNNING in the journal. Each transition kind names the records its
input touches, in the same terms the feeds use for a candidate
(``<system>:<record type>:<id>``); a payment is known by the invoice it pays, its
own id being the ERP's to give.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from domain.events import crm_fact_id
from domain.operations import Operation
from domain.store import GovernanceStore
from workflows.inbound_win import SYNC_WIN
from workflows.win import CLOSE_WIN

__all__ = ["TOUCHES", "in_flight", "touched_by"]


def _opportunity(data: dict[str, Any]) -> list[str]:
    return [f"salesforce:opportunity:{crm_fact_id(str(data['opportunity_id']))}"]


TOUCHES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    CLOSE_WIN: _opportunity,
    SYNC_WIN: _opportunity,
    "approveTimeEntries": lambda data: [f"harvest:time_entry:{i}" for i in data["ids"]],
    "acceptMilestone": lambda data: [f"kantata:milestone:{data['milestone_id']}"],
    "recordPayment": lambda data: [f"netsuite:invoice:{data['invoice_id']}"],
}


def touched_by(operation: Operation) -> list[str]:
    touches = TOUCHES.get(operation.kind)
    return touches(operation.input) if touches is not None else []


async def in_flight(journal: GovernanceStore) -> frozenset[str]:
    """The records touched by the operations RUNNING now (a few reads of the journal)."""
    ids = await journal.incomplete_operations()
    operations = await asyncio.gather(*(journal.get_operation(i) for i in ids))
    return frozenset(
        touched
        for operation in operations
        if operation is not None
        for touched in touched_by(operation)
    )
