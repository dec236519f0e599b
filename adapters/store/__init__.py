"""The governance store: journal, idempotency, claims, audit, exceptions, dead letters."""

from adapters.store.redis_store import RedisGovernanceStore

__all__ = ["RedisGovernanceStore"]
