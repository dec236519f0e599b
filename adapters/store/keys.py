"""Where the governance store keeps things in Redis, every key under one prefix.

op:{id}            hash: ``meta`` (the operation), ``step:{name}`` (each step) and
                   ``interrupted:{name}`` (attempts of a step whose runner died mid-way)
ops:running        zset of RUNNING operation ids (resumed on start)
lease:{id}         who runs the operation now (SET NX PX, renewed while it runs)
idem:{scope}:{key} the operation a client's idempotency key is bound to (with a TTL)
claim:{input}      the invoice a billing input is billed on (never expires)
rec:{name}         named JSON documents (invoice drafts)
events             the firm's event stream (canonical events)
events:floor       the smallest cursor retention still honours (set by each trim)
events:wake:{hub}  written once to wake one process's live reader when it stops
audit              the audit stream, never trimmed; audit:eng:{key} per engagement
exc:{id}, exc:all  business exceptions; exc:open:{role} the open ones per owner role
dlq:{id}, dlq:all  dead letters
fact:{fact}        the event that announced a vendor occurrence, or "history" (never expires)
sync:{feed}        the inbound sync's watermark of one feed (``harvest/time_entry`` ...);
                   sync:{feed}:seen the version last handled of each record it read lately
webhook:{system}:{delivery}  an inbound webhook delivery already taken (SET NX, with a TTL)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StoreKeys"]


@dataclass(frozen=True, slots=True)
class StoreKeys:
    prefix: str

    def op(self, operation_id: str) -> str:
        return f"{self.prefix}op:{operation_id}"

    @property
    def running(self) -> str:
        return f"{self.prefix}ops:running"

    def lease(self, operation_id: str) -> str:
        return f"{self.prefix}lease:{operation_id}"

    def idempotency(self, scope: str, key: str) -> str:
        return f"{self.prefix}idem:{scope}:{key}"

    def claim(self, input_key: str) -> str:
        return f"{self.prefix}claim:{input_key}"

    def record(self, name: str) -> str:
        return f"{self.prefix}rec:{name}"

    @property
    def events(self) -> str:
        return f"{self.prefix}events"

    @property
    def events_floor(self) -> str:
        return f"{self.prefix}events:floor"

    def events_wake(self, hub: str) -> str:
        return f"{self.prefix}events:wake:{hub}"

    @property
    def audit(self) -> str:
        return f"{self.prefix}audit"

    def engagement_audit(self, engagement_key: str) -> str:
        return f"{self.prefix}audit:eng:{engagement_key}"

    def exception(self, exception_id: str) -> str:
        return f"{self.prefix}exc:{exception_id}"

    @property
    def exceptions(self) -> str:
        return f"{self.prefix}exc:all"

    def open_exceptions(self, role: str) -> str:
        return f"{self.prefix}exc:open:{role}"

    def dead_letter(self, dead_letter_id: str) -> str:
        return f"{self.prefix}dlq:{dead_letter_id}"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}dlq:all"

    def fact(self, fact: str) -> str:
        return f"{self.prefix}fact:{fact}"

    def sync(self, feed: str) -> str:
        return f"{self.prefix}sync:{feed}"

    def sync_seen(self, feed: str) -> str:
        return f"{self.prefix}sync:{feed}:seen"

    def webhook_delivery(self, system: str, delivery_id: str) -> str:
        return f"{self.prefix}webhook:{system}:{delivery_id}"
