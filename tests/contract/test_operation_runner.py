"""The operation runner over the real store code (embedded Redis): retries, dead letters,
replays, resumption after a crash, one runner per operation."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from adapters.redis_store import connect_redis
from adapters.store import RedisGovernanceStore
from adapters.store.journal import MAX_INTERRUPTIONS
from domain.errors import BusinessRuleViolation, UpstreamRejected, UpstreamUnavailable
from domain.events import MilestoneAccepted
from domain.governance import DeadLetterStatus, Principal, Role
from domain.ids import EngagementKey
from domain.observability import NullMetrics
from domain.operations import Commit, Operation, OperationStatus
from workflows.deadletters import DeadLetters
from workflows.journal_context import StepContext
from workflows.operations import OperationRunner, Step, StepResult
from workflows.transitions import Caller

ENG = EngagementKey("ENG-2026-00007")


@dataclass
class Scripted:
    """A kind whose steps fail as scripted: ``failures[step]`` failures before success."""

    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    runs: Counter[str] = field(default_factory=Counter)
    name: str = "scripted"

    def steps(self, operation: Operation) -> Sequence[Step]:
        return [Step(n, self._step(n)) for n in ("first", "second", "third")]

    def _step(self, name: str) -> Callable[[StepContext], Awaitable[StepResult]]:
        async def run(context: StepContext) -> StepResult:
            self.runs[name] += 1
            pending = self.failures.get(name, [])
            if pending:
                raise pending.pop(0)
            event = context.event(MilestoneAccepted, milestone_id=name, amount=None, currency=None)
            result = {"done": True} if name == "third" else None
            return StepResult(output={"ran": name}, commit=Commit(events=(event,)), result=result)

        return run


@pytest.fixture
async def store() -> AsyncIterator[RedisGovernanceStore]:
    client = connect_redis(None)
    yield RedisGovernanceStore(client, "eg-test:")
    await client.aclose()


def runner(store: RedisGovernanceStore, kind: Scripted, holder: str = "p1") -> OperationRunner:
    return OperationRunner(
        store=store,
        kinds={kind.name: kind},
        metrics=NullMetrics(),
        holder=holder,
        step_attempts=3,
        backoff_base_s=0.0,
        lease_ms=5000,
    )


def operation(op_id: str = "op-1") -> Operation:
    return Operation(
        id=op_id,
        kind="scripted",
        engagement_key=ENG,
        input={},
        fingerprint="f",
        actor="tester",
        role="PMO",
        correlation_id="c",
        created_at=datetime(2026, 11, 25, tzinfo=UTC),
    )


def unavailable() -> UpstreamUnavailable:
    return UpstreamUnavailable("503", system="netsuite", status=503)


async def test_a_failing_step_is_retried_and_each_step_commits_once(
    store: RedisGovernanceStore,
) -> None:
    kind = Scripted(failures={"second": [unavailable(), unavailable()]})
    done = await runner(store, kind).submit(operation())
    assert done.status is OperationStatus.SUCCEEDED and done.result == {"done": True}
    assert kind.runs == Counter({"first": 1, "second": 3, "third": 1})
    assert done.steps["second"].attempts == 3
    assert [e.subject for _, e in await store.events()] == [ENG, ENG, ENG]
    trail = [a.action for a in await store.audit_trail(ENG)]
    assert trail == ["scripted.first", "scripted.second", "scripted.third"]


async def test_exhausted_retries_dead_letter_and_a_replay_resumes_at_the_failed_step(
    store: RedisGovernanceStore,
) -> None:
    kind = Scripted(failures={"second": [unavailable()] * 3})
    run = runner(store, kind)
    failed = await run.submit(operation())
    assert failed.status is OperationStatus.DEAD_LETTERED
    [letter] = await store.dead_letters(DeadLetterStatus.PENDING)
    assert letter.step == "second" and letter.system == "netsuite" and letter.attempts == 3
    assert letter.context["completed_steps"] == ["first"]
    assert await store.incomplete_operations() == []
    admin = Caller(Principal(subject="ops", roles=frozenset({Role.ADMIN})))
    queue = DeadLetters(store, run, NullMetrics(), {})
    replayed, outcome = await queue.replay(letter.id, admin)
    assert outcome is not None and outcome.status is OperationStatus.SUCCEEDED
    assert replayed.status is DeadLetterStatus.REPLAYED and replayed.replays == 1
    assert kind.runs == Counter({"first": 1, "second": 4, "third": 1})
    with pytest.raises(Exception, match="already replayed"):
        await queue.replay(letter.id, admin)


async def test_a_vendor_refusal_is_not_retried(store: RedisGovernanceStore) -> None:
    refusal = UpstreamRejected("bad subsidiary", system="netsuite", status=400)
    kind = Scripted(failures={"first": [refusal]})
    failed = await runner(store, kind).submit(operation())
    assert failed.status is OperationStatus.DEAD_LETTERED
    assert kind.runs["first"] == 1


async def test_a_business_rule_rejects_with_an_exception_for_the_owner_role(
    store: RedisGovernanceStore,
) -> None:
    rule = BusinessRuleViolation("on hold", owner_role=Role.MASTER_DATA, code="CUSTOMER_ON_HOLD")
    kind = Scripted(failures={"second": [rule]})
    rejected = await runner(store, kind).submit(operation())
    assert rejected.status is OperationStatus.REJECTED
    assert rejected.result is not None and rejected.result["code"] == "CUSTOMER_ON_HOLD"
    assert kind.runs == Counter({"first": 1, "second": 1})
    [exception] = await store.business_exceptions([Role.MASTER_DATA])
    assert exception.id == rejected.result["exception_id"]
    types = [e.type for _, e in await store.events()]
    assert types == ["milestone.accepted", "exception.raised"]


async def test_an_operation_left_running_by_a_dead_process_resumes_after_its_last_commit(
    store: RedisGovernanceStore,
) -> None:
    """The first runner dies after committing `first`: its lease lapses, a new process
    resumes at `second`, and `first` never runs again."""
    await store.open_operation(operation())
    await store.step_started("op-1", "first")
    await store.commit("op-1", step="first", output={"ran": "first"})
    await store.step_started("op-1", "second")  # started, never committed: the crash
    kind = Scripted()
    assert await runner(store, kind, holder="p2").resume_incomplete() == 1
    resumed = await store.get_operation("op-1")
    assert resumed is not None and resumed.status is OperationStatus.SUCCEEDED
    assert kind.runs == Counter({"second": 1, "third": 1})
    assert resumed.steps["second"].attempts == 2


async def test_crashes_mid_step_use_up_no_attempt_until_they_look_like_a_crash_loop(
    store: RedisGovernanceStore,
) -> None:
    """A runner that died mid-step is no failure of the step: a step interrupted again and
    again (the gateway dies while it resumes) still runs. Past MAX_INTERRUPTIONS each
    interruption counts, so a step that kills its process every time is dead-lettered."""
    await store.open_operation(operation())
    for _ in range(5):  # 5 processes died in `first`, each after journaling its attempt
        await store.step_started("op-1", "first")
    kind = Scripted()
    assert await runner(store, kind, holder="p2").resume_incomplete() == 1
    resumed = await store.get_operation("op-1")
    assert resumed is not None and resumed.status is OperationStatus.SUCCEEDED
    assert kind.runs == Counter({"first": 1, "second": 1, "third": 1})
    assert resumed.steps["first"].attempts == 6  # the record still counts every start

    await store.open_operation(operation("op-2"))
    for _ in range(MAX_INTERRUPTIONS + 3):  # a crash loop
        await store.step_started("op-2", "first")
    looping = Scripted()
    assert await runner(store, looping, holder="p3").resume_incomplete() == 1
    letter = await store.get_operation("op-2")
    assert letter is not None and letter.status is OperationStatus.DEAD_LETTERED
    assert looping.runs == Counter()


async def test_a_runner_whose_lease_was_taken_over_starts_no_further_step(
    store: RedisGovernanceStore,
) -> None:
    """Its lease lapsed while `first` ran (a stalled process) and another replica took the
    operation over: the stalled runner commits the step it is in and starts no other."""
    kind = Scripted()
    taken_over = kind._step("first")

    async def first(context: StepContext) -> StepResult:
        await store._client.delete(store.keys.lease("op-1"))  # lapsed ...
        assert await store.acquire_lease("op-1", "other-replica", 60_000)  # ... and taken
        return await taken_over(context)

    class Stalled(Scripted):
        def steps(self, operation: Operation) -> Sequence[Step]:
            return [Step("first", first), *super().steps(operation)[1:]]

    stalled = Stalled(runs=kind.runs)
    await store.open_operation(operation())
    assert await runner(store, stalled).resume_incomplete() == 1
    left = await store.get_operation("op-1")
    assert left is not None and left.status is OperationStatus.RUNNING
    assert [name for name in left.steps if left.done(name)] == ["first"]
    assert kind.runs == Counter({"first": 1})
    await store.release_lease("op-1", "other-replica")  # the other replica, in short
    done = await runner(store, kind, holder="p2").run("op-1")
    assert done.status is OperationStatus.SUCCEEDED
    assert kind.runs == Counter({"first": 1, "second": 1, "third": 1})


async def test_two_runners_of_one_operation_run_each_step_once(
    store: RedisGovernanceStore,
) -> None:
    kind = Scripted()
    await store.open_operation(operation())
    first, second = runner(store, kind, "p1"), runner(store, kind, "p2")
    outcomes = await asyncio.gather(first.run("op-1"), second.run("op-1"), first.run("op-1"))
    assert {o.status for o in outcomes} == {OperationStatus.SUCCEEDED}
    assert kind.runs == Counter({"first": 1, "second": 1, "third": 1})
    assert len(await store.events()) == 3


async def test_a_held_operation_is_not_resumed_by_another_process(
    store: RedisGovernanceStore,
) -> None:
    await store.open_operation(operation())
    assert await store.acquire_lease("op-1", "alive-elsewhere", 5000)
    kind = Scripted()
    assert await runner(store, kind, holder="p2").resume_incomplete() == 0
    assert kind.runs == Counter()


async def test_a_running_id_without_a_journal_is_forgotten_not_retried_for_ever(
    store: RedisGovernanceStore,
) -> None:
    await store.open_operation(operation("gone"))
    await store.open_operation(operation("op-1"))
    await store._redis.delete(store.keys.op("gone"))  # expired or deleted by an operator
    kind = Scripted()
    assert await runner(store, kind).resume_incomplete() == 1
    assert await store.incomplete_operations() == []
    assert kind.runs == Counter({"first": 1, "second": 1, "third": 1})
