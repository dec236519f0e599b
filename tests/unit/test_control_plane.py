"""The sandboxes' shared fault settings refuse what would break the sandbox."""

from __future__ import annotations

import math

import pytest

from sandboxes.control import Faults


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_fault_values_are_refused_and_nothing_changes(value: float) -> None:
    faults = Faults()
    problems = faults.update({"latency_ms": 5, "error_rate": value})
    assert problems == ["error_rate must be a finite number"]
    assert faults.latency_ms == 0 and faults.error_rate == 0


def test_rates_outside_zero_to_one_and_unknown_keys_are_refused() -> None:
    faults = Faults()
    assert faults.update({"error_rate": 1.5, "colour": 1}) == [
        "error_rate out of range: 1.5",
        "unknown fault setting 'colour'",
    ]


def test_valid_values_apply() -> None:
    faults = Faults()
    assert faults.update({"latency_ms": 40, "retry_after_s": 2.0}) == []
    assert (faults.latency_ms, faults.retry_after_s) == (40.0, 2)
