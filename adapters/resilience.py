"""Resilience as a policy object: timeouts, bounded jittered retries, a breaker.

`ResiliencePolicy` is plain configuration (built from Settings by the
composition root). `CircuitBreaker` is per system: after `failure_threshold`
consecutive technical failures it opens and refuses calls for
`reset_timeout_s`; then it lets one trial call through (half-open) and closes
on its success or re-opens on its failure.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.health import BreakerState

__all__ = ["CircuitBreaker", "ResiliencePolicy"]


@dataclass(frozen=True, slots=True)
class ResiliencePolicy:
    timeout_s: float = 5.0
    max_attempts: int = 3  # first try included
    backoff_base_s: float = 0.05
    backoff_max_s: float = 2.0
    retry_after_max_s: float = 10.0  # a longer Retry-After is not waited for
    breaker_failure_threshold: int = 5
    breaker_reset_timeout_s: float = 10.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for retry number `attempt` (1-based)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2 ** (attempt - 1)))
        return rng.uniform(0, ceiling)


@dataclass(slots=True)
class CircuitBreaker:
    failure_threshold: int
    reset_timeout_s: float
    clock: Callable[[], float] = time.monotonic
    _failures: int = 0
    _opened_at: float | None = None
    _trial_in_flight: bool = field(default=False)

    @classmethod
    def from_policy(
        cls, policy: ResiliencePolicy, clock: Callable[[], float] = time.monotonic
    ) -> CircuitBreaker:
        return cls(policy.breaker_failure_threshold, policy.breaker_reset_timeout_s, clock)

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self.clock() - self._opened_at >= self.reset_timeout_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._trial_in_flight = False
        if self._opened_at is not None:  # the half-open trial failed
            self._opened_at = self.clock()
            return
        self._failures += 1
        if self._failures >= self.failure_threshold:
            self._opened_at = self.clock()

    def release(self) -> None:
        """A call ended with neither a technical success nor a failure (e.g. a 404)."""
        if self._trial_in_flight:
            self.record_success()

    def abandon(self) -> None:
        """A call was cancelled before it told anything: free the half-open trial slot.

        The state stays as it was (half-open stays half-open), so the next call
        may try again; without this a cancelled trial would keep the breaker
        refusing every call for ever.
        """
        self._trial_in_flight = False
