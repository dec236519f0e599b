"""Resolving a business exception: its owner role (or ADMIN) says what was done about it.

One journaled step marks the exception RESOLVED with the resolution and
publishes ``exception.resolved``; the operation's id is the exception's, so
resolving twice is one resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.events import ExceptionResolved
from domain.operations import Commit, Operation
from domain.store import GovernanceStore
from workflows.journal_context import StepContext
from workflows.operations import Step, StepResult

__all__ = ["RESOLVE_EXCEPTION", "ResolveException", "resolution_id"]

RESOLVE_EXCEPTION = "resolveException"


def resolution_id(exception_id: str) -> str:
    return f"{RESOLVE_EXCEPTION}:{exception_id}"


@dataclass(frozen=True, slots=True)
class ResolveException:
    store: GovernanceStore
    name: str = RESOLVE_EXCEPTION

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step("resolve", self._resolve)]

    async def _resolve(self, context: StepContext) -> StepResult:
        exception_id = str(context.operation.input["exception_id"])
        resolution = str(context.operation.input["resolution"])
        await self.store.resolve_business_exception(exception_id, resolution)
        event = context.event(ExceptionResolved, exception_id=exception_id, resolution=resolution)
        out = {"exception_id": exception_id, "resolution": resolution}
        return StepResult(
            output=out,
            commit=Commit(events=(event,)),
            before={"status": "OPEN"},
            after={"status": "RESOLVED", "resolution": resolution},
            result=out,
        )
