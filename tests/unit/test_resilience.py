"""Circuit breaker and backoff policy, on a fake clock."""

from __future__ import annotations

import random

from adapters.resilience import CircuitBreaker, ResiliencePolicy
from domain.health import BreakerState
from tests.support import FakeClock


def state(breaker: CircuitBreaker) -> BreakerState:
    """Read the state afresh (keeps mypy from narrowing a property across calls)."""
    return breaker.state


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout_s=10, clock=clock)
    for _ in range(2):
        breaker.record_failure()
    assert state(breaker) is BreakerState.CLOSED
    breaker.record_failure()
    assert state(breaker) is BreakerState.OPEN
    assert not breaker.allow()


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout_s=10, clock=FakeClock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert state(breaker) is BreakerState.CLOSED


def test_half_open_lets_one_trial_through_and_closes_on_success() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10, clock=clock)
    breaker.record_failure()
    clock.now += 10
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # only one trial at a time
    breaker.record_success()
    assert state(breaker) is BreakerState.CLOSED


def test_failed_trial_reopens_for_a_full_timeout() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10, clock=clock)
    breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.record_failure()
    assert state(breaker) is BreakerState.OPEN
    clock.now += 9.9
    assert state(breaker) is BreakerState.OPEN
    clock.now += 0.1
    assert state(breaker) is BreakerState.HALF_OPEN


def test_backoff_is_jittered_and_capped() -> None:
    policy = ResiliencePolicy(backoff_base_s=0.1, backoff_max_s=0.5)
    rng = random.Random(1)
    delays = [policy.backoff(attempt, rng) for attempt in range(1, 10) for _ in range(20)]
    assert all(0 <= d <= 0.5 for d in delays)
    assert len(set(delays)) > 100
    assert max(policy.backoff(1, rng) for _ in range(50)) <= 0.1
