"""What an operation kind is made of: its steps, and what a step returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.governance import Role
from domain.operations import NO_EFFECTS, Commit, Operation, OperationStatus
from workflows.journal_context import StepContext

__all__ = ["OperationKind", "Step", "StepResult"]


@dataclass(frozen=True, slots=True)
class StepResult:
    output: dict[str, Any] = field(default_factory=dict)
    commit: Commit = NO_EFFECTS
    before: dict[str, Any] | None = None  # for the audit entry
    after: dict[str, Any] | None = None
    result: dict[str, Any] | None = None  # set by the last step: the operation's result
    status: OperationStatus | None = None  # ends the operation otherwise than SUCCEEDED


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    run: Callable[[StepContext], Awaitable[StepResult]]
    # (code, owner role, message): a business exception raised when the step is dead-lettered,
    # for failures that leave the business in a state someone must know about
    exception_on_failure: tuple[str, Role, str] | None = None


class OperationKind(Protocol):
    @property
    def name(self) -> str: ...

    def steps(self, operation: Operation) -> Sequence[Step]: ...
