"""The inbound sync's feeds: what each system's changed records announce.

A feed reads one kind of record (changed since a moment, or by id) and turns each
into a `Seen`: the record's id and version, and the candidate facts its current
state shows, each with the single-fact event that would announce it:

- Harvest time entries: an entry approved (``is_closed``) and not billed is news -
  approved entries are locked, so a changed one that is still approved and unbilled
  was approved just now (invoicing it bills it) -> ``time.approved``, grouped per
  engagement when published;
- Kantata milestone stories: ``completed`` -> ``milestone.completed`` (our
  acceptMilestone writes ``accepted``, not ``completed``), ``accepted`` ->
  ``milestone.accepted`` (the same fact the acceptMilestone transition announces);
- NetSuite customer payments: each application to an invoice -> ``payment.received``
  (as the recordPayment transition announces it: one per payment and invoice).

Events announcing what a vendor holds get a stable id from the facts they carry,
the record's version as their time, the engagement as subject, and the actor
``sync:<system>``. The Salesforce feed (closed won deals) is in
`workflows.inbound_win`: a won deal runs a governed operation instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from domain.events import (
    Event,
    MilestoneAccepted,
    MilestoneCompleted,
    PaymentReceived,
    TimeApproved,
    event_id,
)
from domain.ids import RecordId, is_engagement_key
from domain.models import ApprovalStatus, Milestone, MilestoneState, TimeEntry
from domain.sync import (
    AppliedPayment,
    MilestoneChanges,
    PaymentChanges,
    SyncStore,
    TimeEntryChanges,
)

__all__ = [
    "Announced",
    "Candidate",
    "Feed",
    "FeedName",
    "MilestoneStates",
    "PaymentApplications",
    "Seen",
    "TimeApprovals",
    "facts_of",
    "publish_candidates",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One fact a record shows, and the event that would announce it alone."""

    record: str  # the record's key in its feed
    touches: str  # what an in-flight transition on the record holds ("harvest:time_entry:7")
    event: Event  # one fact, the record's version as its time

    @property
    def fact(self) -> str:
        return self.event.facts()[0]


@dataclass(frozen=True, slots=True)
class Seen:
    """A record as read now: its key, its version (modification stamp), its facts."""

    key: str
    version: datetime
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True, slots=True)
class Announced:
    published: int = 0  # events published (or operations that published)
    deferred: frozenset[str] = frozenset()  # records to look at again (work still in flight)


class FeedName:
    """A feed's `name`, ``<system>/<record type>``, from the fields of the feed's dataclass."""

    __slots__ = ()
    system: str
    record_type: str

    @property
    def name(self) -> str:
        return f"{self.system}/{self.record_type}"


def facts_of(seen: Iterable[Seen]) -> list[str]:
    """The facts the records show (a feed's `history`)."""
    return [candidate.fact for record in seen for candidate in record.candidates]


class Feed(Protocol):
    @property
    def system(self) -> str: ...

    @property
    def names(self) -> frozenset[str]:
        """The record type names `InboundSync.sync_records` accepts for it, lower case."""
        ...

    @property
    def name(self) -> str:
        """``<system>/<record type>``: the feed's watermark and versions are kept under it."""
        ...

    async def history(self) -> list[str]:
        """The facts the vendor shows now that later edits must not pass off as news (read at
        the feed's first start); empty when a changed record can only show new facts."""
        ...

    async def changed_since(self, since: datetime) -> list[Seen]: ...

    async def read(self, record_type: str, ids: Sequence[str]) -> list[Seen]: ...

    async def announce(self, candidates: Sequence[Candidate]) -> Announced: ...


def sync_event(
    cls: type[Event], system: str, version: datetime, subject: str | None, **data: object
) -> Event:
    """An event announcing what `system` holds: stable id from its facts, actor sync:<system>,
    the engagement as subject when the vendor's record names a well-formed key."""
    about = subject if subject is not None and is_engagement_key(subject) else None
    draft = cls.model_validate(
        {"id": "-", "time": version, "actor": f"sync:{system}", "subject": about, **data}
    )
    return draft.model_copy(update={"id": event_id("sync", system, *sorted(draft.facts()))})


async def publish_candidates(
    store: SyncStore, candidates: Sequence[Candidate], merge: bool = False
) -> int:
    """Publish the candidates' events (merged per engagement when `merge`), only for facts
    nobody announced; what loses a race to another path is regrouped and tried again."""
    remaining = list(candidates)
    published = 0
    while remaining:
        events = _merged(remaining) if merge else [c.event for c in remaining]
        done = await store.publish_unmarked(events)
        published += len(done)
        if len(done) == len(events):
            break
        marks = await store.marks([c.fact for c in remaining])
        remaining = [c for c in remaining if c.fact not in marks]
    return published


def _merged(candidates: Sequence[Candidate]) -> list[Event]:
    """``time.approved`` per engagement: the entries' ids and total hours."""
    groups: dict[str | None, list[TimeApproved]] = defaultdict(list)
    for candidate in candidates:
        assert isinstance(candidate.event, TimeApproved)
        groups[candidate.event.subject].append(candidate.event)
    return [
        sync_event(
            TimeApproved,
            "harvest",
            max(e.time for e in group),
            subject=subject,
            time_entry_ids=sorted((i for e in group for i in e.time_entry_ids), key=_id_order),
            hours=str(sum((Decimal(e.hours) for e in group), Decimal(0))),
        )
        for subject, group in groups.items()
    ]


def _id_order(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


@dataclass(frozen=True, slots=True)
class TimeApprovals(FeedName):
    source: TimeEntryChanges
    store: SyncStore
    system: str = "harvest"
    record_type: str = "time_entry"
    names: frozenset[str] = frozenset({"time_entry", "time_entries", "timeentry"})

    async def history(self) -> list[str]:
        return []  # approved entries are locked: one that changed and is still approved is news

    async def changed_since(self, since: datetime) -> list[Seen]:
        return [self._seen(e) for e in await self.source.time_entries_changed_since(since)]

    async def read(self, record_type: str, ids: Sequence[str]) -> list[Seen]:
        entries = await self.source.get_time_entries([RecordId(i) for i in ids])
        return [self._seen(entry) for entry in entries]

    def _seen(self, entry: TimeEntry) -> Seen:
        version = entry.modified_at or EPOCH
        if entry.approval is not ApprovalStatus.APPROVED or entry.billed:
            return Seen(entry.id, version)
        event = sync_event(
            TimeApproved,
            self.system,
            version,
            subject=entry.engagement_key,
            time_entry_ids=[entry.id],
            hours=str(entry.hours),
        )
        return Seen(
            entry.id, version, (Candidate(entry.id, f"harvest:time_entry:{entry.id}", event),)
        )

    async def announce(self, candidates: Sequence[Candidate]) -> Announced:
        return Announced(await publish_candidates(self.store, candidates, merge=True))


_MILESTONE_EVENTS: dict[MilestoneState, type[Event]] = {
    MilestoneState.COMPLETED: MilestoneCompleted,
    MilestoneState.ACCEPTED: MilestoneAccepted,
}


@dataclass(frozen=True, slots=True)
class MilestoneStates(FeedName):
    source: MilestoneChanges
    store: SyncStore
    system: str = "kantata"
    record_type: str = "milestone"
    names: frozenset[str] = frozenset({"milestone", "story", "stories"})

    async def history(self) -> list[str]:
        found = await self.source.milestones_changed_since(None)
        return facts_of(self._seen(milestone) for milestone in found)

    async def changed_since(self, since: datetime) -> list[Seen]:
        return [self._seen(m) for m in await self.source.milestones_changed_since(since)]

    async def read(self, record_type: str, ids: Sequence[str]) -> list[Seen]:
        found = await self.source.get_milestones_by_id([RecordId(i) for i in ids])
        return [self._seen(milestone) for milestone in found]

    def _seen(self, milestone: Milestone) -> Seen:
        version = milestone.modified_at or EPOCH
        cls = _MILESTONE_EVENTS.get(milestone.state)
        if cls is None:
            return Seen(milestone.id, version)
        event = sync_event(
            cls,
            self.system,
            version,
            subject=milestone.engagement_key,
            milestone_id=milestone.id,
            amount=str(milestone.amount.amount) if milestone.amount else None,
            currency=milestone.amount.currency if milestone.amount else None,
        )
        touches = f"kantata:milestone:{milestone.id}"
        return Seen(milestone.id, version, (Candidate(milestone.id, touches, event),))

    async def announce(self, candidates: Sequence[Candidate]) -> Announced:
        return Announced(await publish_candidates(self.store, candidates))


@dataclass(frozen=True, slots=True)
class PaymentApplications(FeedName):
    source: PaymentChanges
    store: SyncStore
    system: str = "netsuite"
    record_type: str = "payment"
    names: frozenset[str] = frozenset({"customerpayment", "payment", "invoice"})

    async def history(self) -> list[str]:
        found = await self.source.payments_changed_since(None)
        return facts_of(self._seen(payment) for payment in found)

    async def changed_since(self, since: datetime) -> list[Seen]:
        return [self._seen(p) for p in await self.source.payments_changed_since(since)]

    async def read(self, record_type: str, ids: Sequence[str]) -> list[Seen]:
        wanted = [RecordId(i) for i in ids]
        if record_type.lower() == "invoice":  # an invoice changed: the payments applied to it
            return [self._seen(p) for p in await self.source.payments_applied_to(wanted)]
        return [self._seen(p) for p in await self.source.get_applied_payments(wanted)]

    def _seen(self, payment: AppliedPayment) -> Seen:
        candidates = tuple(
            Candidate(
                payment.id,
                f"netsuite:invoice:{applied.invoice_id}",
                sync_event(
                    PaymentReceived,
                    self.system,
                    payment.modified_at,
                    subject=applied.engagement_key,
                    payment_id=payment.id,
                    invoice_id=applied.invoice_id,
                    amount=str(applied.amount.amount),
                    currency=applied.amount.currency,
                ),
            )
            for applied in payment.applications
        )
        return Seen(payment.id, payment.modified_at, candidates)

    async def announce(self, candidates: Sequence[Candidate]) -> Announced:
        return Announced(await publish_candidates(self.store, candidates))
