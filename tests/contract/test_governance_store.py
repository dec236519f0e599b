"""The governance store on the embedded Redis and on the real one: same behaviour."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.redis_store import connect_redis
from adapters.store import RedisGovernanceStore
from domain.events import OpportunityWon
from domain.governance import AuditEntry, BusinessException, DeadLetter, DeadLetterStatus, Role
from domain.ids import EngagementKey
from domain.operations import Commit, Operation, OperationStatus, StepStatus
from domain.store import ClaimConflict
from tests.redis_support import real_redis_or_skip

ENG = EngagementKey("ENG-2026-00001")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["embedded", "real"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RedisGovernanceStore]:
    if request.param == "embedded":
        client = connect_redis(None)
        yield RedisGovernanceStore(client, "eg-test:")
        await client.aclose()
        return
    async for client, prefix in real_redis_or_skip():
        yield RedisGovernanceStore(client, prefix)


def operation(op_id: str = "op-1") -> Operation:
    return Operation(
        id=op_id,
        kind="activation",
        engagement_key=ENG,
        input={"engagement_key": ENG},
        fingerprint="f1",
        actor="alice",
        role="PMO",
        correlation_id="c-1",
        created_at=NOW,
    )


def won(event_id: str = "e-1") -> OpportunityWon:
    return OpportunityWon(
        id=event_id,
        subject=ENG,
        time=NOW,
        opportunity_id="006X",
        customer_key="CUST-0001",
        billing_model="TIME_AND_MATERIALS",
        amount="100.00",
        currency="USD",
    )


async def test_opening_twice_keeps_the_first_operation(store: RedisGovernanceStore) -> None:
    first = await store.open_operation(operation())
    again = await store.open_operation(operation().model_copy(update={"fingerprint": "other"}))
    assert again.fingerprint == first.fingerprint == "f1"
    assert await store.incomplete_operations() == ["op-1"]


async def test_a_step_commits_once_with_its_events_and_audit(store: RedisGovernanceStore) -> None:
    await store.open_operation(operation())
    assert await store.step_started("op-1", "upsert") == 1
    audit = AuditEntry(
        at=NOW, actor="alice", role="PMO", action="activation.upsert",
        engagement_key=ENG, correlation_id="c-1",
    )  # fmt: skip
    effects = Commit(events=(won(),), audit=(audit,))
    assert await store.commit("op-1", step="upsert", output={"id": "7"}, commit=effects)
    assert not await store.commit("op-1", step="upsert", output={"id": "8"}, commit=effects)
    journaled = await store.get_operation("op-1")
    assert journaled is not None and journaled.steps["upsert"].status is StepStatus.DONE
    assert journaled.output("upsert") == {"id": "7"}
    events = await store.events()
    assert [e.id for _, e in events] == ["e-1"]
    trail = await store.audit_trail(ENG)
    assert [a.action for a in trail] == ["activation.upsert"]


async def test_finishing_removes_the_operation_from_the_incomplete(
    store: RedisGovernanceStore,
) -> None:
    await store.open_operation(operation())
    await store.commit("op-1", step="last", status=OperationStatus.SUCCEEDED, result={"ok": 1})
    journaled = await store.get_operation("op-1")
    assert journaled is not None and journaled.status is OperationStatus.SUCCEEDED
    assert journaled.result == {"ok": 1}
    assert await store.incomplete_operations() == []


async def test_concurrent_commits_of_one_step_write_its_events_once(
    store: RedisGovernanceStore,
) -> None:
    await store.open_operation(operation())
    effects = Commit(events=(won(),))
    results = await asyncio.gather(
        *(store.commit("op-1", step="s", commit=effects) for _ in range(20))
    )
    assert results.count(True) == 1
    assert len(await store.events()) == 1


async def test_claims_are_exclusive_to_their_owner(store: RedisGovernanceStore) -> None:
    await store.open_operation(operation("a"))
    await store.open_operation(operation("b"))
    mine = Commit(claims=("TE-1", "TE-2"), claim_owner="INV-A")
    assert await store.commit("a", step="claim", commit=mine)
    theirs = Commit(claims=("TE-2", "TE-3"), claim_owner="INV-B")
    with pytest.raises(ClaimConflict) as refused:
        await store.commit("b", step="claim", commit=theirs)
    assert refused.value.taken == {"TE-2": "INV-A"}
    assert await store.claims(["TE-1", "TE-2", "TE-3"]) == {"TE-1": "INV-A", "TE-2": "INV-A"}
    release = Commit(release_claims=("TE-1", "TE-2"), claim_owner="INV-B")
    assert await store.commit("b", step="release", commit=release)
    assert await store.claims(["TE-1"]) == {"TE-1": "INV-A"}  # not B's to release


async def test_an_idempotency_key_binds_to_its_first_operation(
    store: RedisGovernanceStore,
) -> None:
    bind = store.bind_idempotency_key
    assert await bind("alice", "k1", "op-1", "f1", 60) == ("op-1", "f1", True)
    assert await bind("alice", "k1", "op-2", "f2", 60) == ("op-1", "f1", False)
    assert await bind("bob", "k1", "op-3", "f3", 60) == ("op-3", "f3", True)
    await store.unbind_idempotency_key("alice", "k1", "op-2")  # not its binding: kept
    assert await bind("alice", "k1", "op-4", "f4", 60) == ("op-1", "f1", False)
    await store.unbind_idempotency_key("alice", "k1", "op-1")
    assert await bind("alice", "k1", "op-4", "f4", 60) == ("op-4", "f4", True)


async def test_a_lease_is_held_by_one_holder_until_released(store: RedisGovernanceStore) -> None:
    assert await store.acquire_lease("op-1", "p1", 5000)
    assert not await store.acquire_lease("op-1", "p2", 5000)
    assert not await store.renew_lease("op-1", "p2", 5000)
    assert await store.renew_lease("op-1", "p1", 5000)
    await store.release_lease("op-1", "p2")  # not p2's: stays
    assert not await store.acquire_lease("op-1", "p2", 5000)
    await store.release_lease("op-1", "p1")
    assert await store.acquire_lease("op-1", "p2", 5000)


async def test_exceptions_are_listed_by_owner_role_until_resolved(
    store: RedisGovernanceStore,
) -> None:
    await store.open_operation(operation())
    exc = BusinessException(
        id="x-1", code="CUSTOMER_ON_HOLD", message="on hold", owner_role=Role.MASTER_DATA,
        engagement_key=ENG, raised_at=NOW,
    )  # fmt: skip
    await store.commit("op-1", step="check", commit=Commit(exceptions=(exc, exc)))
    assert [e.id for e in await store.business_exceptions([Role.MASTER_DATA])] == ["x-1"]
    assert await store.business_exceptions([Role.FINANCE]) == []
    assert await store.resolve_business_exception("x-1", "customer released")
    assert await store.business_exceptions([Role.MASTER_DATA]) == []
    resolved = await store.get_business_exception("x-1")
    assert resolved is not None and resolved.resolution == "customer released"


async def test_dead_letters_keep_their_context_and_status(store: RedisGovernanceStore) -> None:
    await store.open_operation(operation())
    letter = DeadLetter(
        id="d-1", operation="activation", operation_id="op-1", step="create_erp_project",
        engagement_key=ENG, error="UpstreamUnavailable: netsuite: 503", error_type="X",
        system="netsuite", attempts=3, failed_at=NOW, context={"input": {"a": 1}},
    )  # fmt: skip
    await store.commit(
        "op-1",
        step=None,
        commit=Commit(dead_letters=(letter,)),
        status=OperationStatus.DEAD_LETTERED,
    )
    assert await store.incomplete_operations() == []
    [pending] = await store.dead_letters(DeadLetterStatus.PENDING)
    assert pending.context == {"input": {"a": 1}} and pending.system == "netsuite"
    await store.put_dead_letter(pending.model_copy(update={"status": DeadLetterStatus.REPLAYED}))
    assert await store.dead_letters(DeadLetterStatus.PENDING) == []
    await store.set_status("op-1", OperationStatus.RUNNING)
    assert await store.incomplete_operations() == ["op-1"]
