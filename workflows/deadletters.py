"""Operating the dead-letter queue: replay (resume the operation) or discard (with a reason).

Replaying resumes the operation at the step that failed, with fresh attempts;
every step before it stays committed, so nothing is done twice. A replay that
succeeds resolves the business exceptions raised with the dead letter (say
INVOICE_POSTED_WITHOUT_CRM_UPDATE): the gap they report is closed. Discarding
ends the operation for good, runs the compensation its kind defines for the
steps already done, and keeps the dead letter (with the reason) for the record.

A dead letter can also hold an event the event processor gave up on (a poison
record, or one delivered too often without success): replaying it hands the
event to the processor again; discarding it just closes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.errors import InvalidInput
from domain.events import ExceptionResolved, event_id
from domain.governance import AuditEntry, DeadLetter, DeadLetterStatus, ExceptionStatus
from domain.observability import MetricsSink
from domain.operations import Commit, Operation, OperationStatus
from domain.store import GovernanceStore
from workflows.operations import OperationRunner
from workflows.transitions import Caller, authorise

__all__ = ["EVENT_DEAD_LETTER", "Compensation", "DeadLetters", "EventReplay"]

Compensation = Callable[[Operation], Awaitable[list[str]]]
"""Undo what a discarded operation's done steps did; returns what was undone."""
EventReplay = Callable[[DeadLetter], Awaitable[None]]
"""Handle a dead-lettered event again (workflows.processors.Processor.replay)."""
EVENT_DEAD_LETTER = "event"  # DeadLetter.operation of an event the processor gave up on


@dataclass(slots=True)
class DeadLetters:
    store: GovernanceStore
    runner: OperationRunner
    metrics: MetricsSink
    compensations: dict[str, Compensation]
    event_replay: EventReplay | None = None

    async def _letter(self, dead_letter_id: str) -> DeadLetter:
        letter = await self.store.get_dead_letter(dead_letter_id)
        if letter is None:
            raise InvalidInput(f"no dead letter {dead_letter_id}")
        if letter.status is not DeadLetterStatus.PENDING:
            raise InvalidInput(
                f"dead letter {dead_letter_id} is already {letter.status.value.lower()}"
            )
        return letter

    async def _operation(self, letter: DeadLetter) -> Operation:
        operation = await self.store.get_operation(letter.operation_id)
        if operation is None:
            raise InvalidInput(f"the operation of dead letter {letter.id} has expired")
        return operation

    async def replay(
        self, dead_letter_id: str, caller: Caller
    ) -> tuple[DeadLetter, Operation | None]:
        """Resume the dead letter's operation (None for an event's: handled again)."""
        principal = authorise("replayDeadLetter", caller)
        if (letter := await self._letter(dead_letter_id)).operation == EVENT_DEAD_LETTER:
            return await self._replay_event(letter, principal.subject), None
        operation = await self._operation(letter)
        if letter.step:
            await self.store.reset_step(operation.id, letter.step)
        replayed = letter.model_copy(
            update={"status": DeadLetterStatus.REPLAYED, "replays": letter.replays + 1}
        )
        await self.store.put_dead_letter(replayed)
        await self._audit(operation, principal.subject, f"replayed dead letter {letter.id}")
        await self.store.set_status(operation.id, OperationStatus.RUNNING)
        outcome = await self.runner.run(operation.id)
        self.metrics.dead_letter_replayed(letter.operation, outcome.status.value.lower())
        note = f"replay ended {outcome.status.value}"
        if outcome.status is OperationStatus.SUCCEEDED:
            await self._resolve_raised(letter, operation, principal.subject)
        replayed = replayed.model_copy(update={"note": note})
        await self.store.put_dead_letter(replayed)
        return replayed, outcome

    async def _replay_event(self, letter: DeadLetter, actor: str) -> DeadLetter:
        if self.event_replay is None:
            raise InvalidInput(f"dead letter {letter.id} is an event and no processor runs here")
        await self.event_replay(letter)  # raises (and the letter stays pending) if it fails
        self.metrics.dead_letter_replayed(letter.operation, "succeeded")
        replayed = letter.model_copy(
            update={
                "status": DeadLetterStatus.REPLAYED,
                "replays": letter.replays + 1,
                "note": f"event handled again by {actor}",
            }
        )
        await self.store.put_dead_letter(replayed)
        return replayed

    async def _resolve_raised(self, letter: DeadLetter, operation: Operation, actor: str) -> None:
        """Resolve the open exceptions raised with `letter`, once its replay succeeded."""
        found = [
            await self.store.get_business_exception(str(exception_id))
            for exception_id in letter.context.get("raised_exception_ids", [])
        ]
        raised = [e for e in found if e is not None and e.status is ExceptionStatus.OPEN]
        resolution = f"replay of dead letter {letter.id} succeeded"
        events = []
        for exception in raised:
            await self.store.resolve_business_exception(exception.id, resolution)
            events.append(
                ExceptionResolved(
                    id=event_id(operation.id, letter.id, ExceptionResolved.type, exception.id),
                    subject=operation.engagement_key,
                    time=datetime.now(UTC),
                    correlation_id=operation.correlation_id,
                    causation_id=operation.id,
                    actor=actor,
                    exception_id=exception.id,
                    resolution=resolution,
                )
            )
        if events:
            await self.store.commit(operation.id, step=None, commit=Commit(events=tuple(events)))

    async def discard(
        self, dead_letter_id: str, reason: str, caller: Caller
    ) -> tuple[DeadLetter, list[str]]:
        principal = authorise("discardDeadLetter", caller)
        if not reason.strip():
            raise InvalidInput("discarding a dead letter needs a reason")
        if (letter := await self._letter(dead_letter_id)).operation == EVENT_DEAD_LETTER:
            discarded = letter.model_copy(
                update={"status": DeadLetterStatus.DISCARDED, "note": reason.strip()}
            )
            await self.store.put_dead_letter(discarded)
            self.metrics.dead_letter_replayed(letter.operation, "discarded")
            return discarded, []
        operation = await self._operation(letter)
        compensate = self.compensations.get(operation.kind)
        undone = await compensate(operation) if compensate else []
        discarded = letter.model_copy(
            update={"status": DeadLetterStatus.DISCARDED, "note": reason.strip()}
        )
        await self.store.put_dead_letter(discarded)
        await self._audit(
            operation,
            principal.subject,
            f"discarded dead letter {letter.id}: {reason.strip()}",
            undone,
        )
        await self.store.set_status(operation.id, OperationStatus.DISCARDED)
        self.metrics.dead_letter_replayed(letter.operation, "discarded")
        return discarded, undone

    async def _audit(
        self, operation: Operation, actor: str, outcome: str, undone: list[str] | None = None
    ) -> None:
        entry = AuditEntry(
            at=datetime.now(UTC),
            actor=actor,
            role="ADMIN",
            action=f"{operation.kind}.dead_letter",
            engagement_key=operation.engagement_key,
            correlation_id=operation.correlation_id,
            operation_id=operation.id,
            outcome=outcome,
            after={"compensated": undone} if undone else None,
        )
        await self.store.commit(operation.id, step=None, commit=Commit(audit=(entry,)))
