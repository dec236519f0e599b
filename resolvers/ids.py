"""Relay global ids, decoded once for every place that accepts them."""

from __future__ import annotations

from strawberry import relay

from domain.errors import InvalidInput

__all__ = ["node_id_from_global", "node_id_or_natural"]


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "AEIOU" else f"a {noun}"


def node_id_from_global(value: object, type_name: str) -> str:
    """The node id inside a global id of `type_name`; anything else is invalid input."""
    if not isinstance(value, str):
        raise InvalidInput(f"not {_a(type_name)} id: {value!r}")
    try:
        gid = relay.GlobalID.from_id(value)
    except (ValueError, relay.GlobalIDValueError):
        raise InvalidInput(f"not a global id: {value!r}") from None
    if gid.type_name != type_name:
        raise InvalidInput(f"id {value!r} is {_a(gid.type_name)} id, not {_a(type_name)} id")
    return gid.node_id


def node_id_or_natural(value: str, type_name: str) -> str:
    """Accept a global id of `type_name`, or the natural id itself (``CUST-0007``)."""
    try:
        relay.GlobalID.from_id(value)
    except (ValueError, relay.GlobalIDValueError):
        return value
    return node_id_from_global(value, type_name)
