"""Typed access to a JSON request body, answering 400/422 the way Harvest does.

Malformed JSON is a 400; a body that is not an object, an unknown field, a
missing required field or a value of the wrong type is a 422 ``{"message"}``.
Numbers are parsed as Decimal (never float).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from json import JSONDecodeError
from typing import Any

from sandboxes import jsonwire
from sandboxes.harvest.errors import message
from sandboxes.harvest.records import ExternalRef

__all__ = ["Body"]

_MISSING = object()


class Body:
    """A request body restricted to `allowed` fields."""

    def __init__(self, raw: bytes, allowed: frozenset[str]) -> None:
        try:
            data = jsonwire.loads(raw or b"{}")
        except (JSONDecodeError, UnicodeDecodeError) as exc:
            raise message(400, f"Malformed JSON body: {exc}") from None
        if not isinstance(data, dict):
            raise message(422, "The request body must be a JSON object")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise message(422, f"Unknown parameter: {', '.join(unknown)}")
        self.data: dict[str, Any] = data

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def fields(self) -> set[str]:
        return set(self.data)

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or (required and value is None):
            if required:
                raise message(422, f"{name} is required")
            return None
        return value

    def not_blank(self, *names: str) -> None:
        """On an update, these fields may be left out but not set to null."""
        for name in names:
            if name in self.data and self.data[name] is None:
                raise message(422, f"{name} can't be blank")

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise message(422, f"{name} must be an integer")
        return value

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self._get(name, required)
        if value is None:
            return None
        invalid = message(422, f"{name} must be a date YYYY-MM-DD")
        if not isinstance(value, str):
            raise invalid
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise invalid from None

    def number(self, name: str, *, low: Decimal, high: Decimal | None = None) -> Decimal | None:
        value = self._get(name, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise message(422, f"{name} must be a number")
        number = Decimal(value)
        if number.is_zero():
            number = abs(number)  # no "-0.0" hours
        if number < low or (high is not None and number > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise message(422, f"{name} must be {bound}")
        return number

    def text(self, name: str) -> str | None:
        value = self._get(name, False)
        if value is not None and not isinstance(value, str):
            raise message(422, f"{name} must be a string")
        return value

    def boolean(self, name: str) -> bool | None:
        value = self._get(name, False)
        if value is not None and not isinstance(value, bool):
            raise message(422, f"{name} must be true or false")
        return value

    def external_reference(self, name: str) -> ExternalRef | None:
        value = self._get(name, False)
        if value is None:
            return None
        keys = {"id", "group_id", "account_id", "permalink"}
        if (
            not isinstance(value, dict)
            or not set(value) <= keys
            or not all(v is None or isinstance(v, str) for v in value.values())
            or not isinstance(value.get("id"), str)
            or not value["id"]
        ):
            raise message(
                422,
                f"{name} must be an object with a string id (and group_id, account_id, permalink)",
            )
        return ExternalRef(
            id=value["id"],
            group_id=value.get("group_id"),
            account_id=value.get("account_id"),
            permalink=value.get("permalink"),
        )
