"""A small key-value cache port (the Redis store satisfies it)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["KeyValueCache"]


class KeyValueCache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_s: int) -> None: ...

    async def delete(self, *keys: str) -> int: ...
