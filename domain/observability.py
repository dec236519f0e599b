"""What the workflows report about themselves, as a port.

Workflows are handed a `MetricsSink` and call it at the moments that matter to
operations; they never import a metrics library. The gateway's Prometheus
implementation (gateway.metrics.PrometheusMetrics) is one sink; `NullMetrics`
is the one for tests and embedded use.

Every argument becomes a label value, so each must come from a small, fixed
set (an operation, a step or an error code, never an engagement key or an id).
A sink never raises: reporting must not change a workflow's outcome.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["MetricsSink", "NullMetrics"]


class MetricsSink(Protocol):
    def transition(self, name: str, outcome: str) -> None:
        """A governed transition (`closeWin`, `postInvoice`, ...) ended with `outcome`."""

    def saga_step(self, step: str, outcome: str) -> None:
        """A saga step (`activation.create_psa_project`, ...) ended with `outcome`."""

    def dead_lettered(self, operation: str) -> None:
        """An operation exhausted its retries and went to the dead-letter queue."""

    def dead_letter_replayed(self, operation: str, outcome: str) -> None:
        """A dead letter of `operation` was replayed with `outcome`."""

    def business_exception(self, code: str, owner_role: str) -> None:
        """A business exception `code` was raised for `owner_role` to act on."""

    def idempotent_replay(self, operation: str) -> None:
        """A repeated request of `operation` was answered from its idempotency record."""


class NullMetrics:
    """A sink that records nothing."""

    def transition(self, name: str, outcome: str) -> None:
        pass

    def saga_step(self, step: str, outcome: str) -> None:
        pass

    def dead_lettered(self, operation: str) -> None:
        pass

    def dead_letter_replayed(self, operation: str, outcome: str) -> None:
        pass

    def business_exception(self, code: str, owner_role: str) -> None:
        pass

    def idempotent_replay(self, operation: str) -> None:
        pass
