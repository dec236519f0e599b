"""The one error tree. Adapters translate HTTP into it once, in their client.

``DomainError`` is the root. ``AdapterError`` and its children are technical
failures talking to a system: they keep the system's name, the vendor's own
message and error code, so an operator can read what the vendor said.
``BusinessRuleViolation`` is an expected business outcome (routed to an
owner role), never retried.
"""

from __future__ import annotations

__all__ = [
    "AdapterError",
    "AuthFailed",
    "BusinessRuleViolation",
    "CircuitOpen",
    "DomainError",
    "InvalidInput",
    "MappingFailed",
    "NotFound",
    "UpstreamRejected",
    "UpstreamUnavailable",
]


class DomainError(Exception):
    """Root of every error the product raises on purpose."""


class InvalidInput(DomainError):
    """A caller asked for something malformed (bad id, bad filter)."""


class BusinessRuleViolation(DomainError):
    """A business rule refused a transition; carries the role that must act."""

    def __init__(self, message: str, *, owner_role: str, code: str) -> None:
        super().__init__(message)
        self.owner_role = owner_role
        self.code = code


class AdapterError(DomainError):
    """A call to an external system failed."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = None,
        vendor_code: str | None = None,
        vendor_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.system = system
        self.status = status
        self.vendor_code = vendor_code
        self.vendor_message = vendor_message

    def __str__(self) -> str:
        detail = self.args[0] if self.args else type(self).__name__
        parts = [f"{self.system}: {detail}"]
        if self.vendor_code:
            parts.append(f"[{self.vendor_code}]")
        if self.vendor_message and self.vendor_message not in detail:
            parts.append(self.vendor_message)
        return " ".join(parts)


class UpstreamUnavailable(AdapterError):
    """The system could not answer: timeout, 5xx, throttled past retries."""


class CircuitOpen(UpstreamUnavailable):
    """The system's circuit breaker is open; the call was not attempted."""


class UpstreamRejected(AdapterError):
    """The system refused the request (4xx validation, bad query, conflict)."""


class NotFound(UpstreamRejected):
    """The record does not exist in the system."""


class AuthFailed(UpstreamRejected):
    """The system refused our credentials."""


class MappingFailed(AdapterError):
    """The system answered with something we could not map to the canonical model."""
