"""Money: a Decimal amount in an ISO 4217 currency. Never a float.

Arithmetic keeps full Decimal precision; rounding to the currency's minor
unit (half-even) happens once, where an invoice line is priced, through
`Money.rounded()`. Mixing currencies is an error, not a silent conversion.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = ["MINOR_UNITS", "CurrencyMismatch", "Money"]

# Minor-unit exponents for the currencies the product deals in (ISO 4217);
# anything else defaults to 2.
MINOR_UNITS: dict[str, int] = {"JPY": 0, "KRW": 0, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3}


class CurrencyMismatch(ValueError):
    """Raised when two amounts in different currencies are combined."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine {left} with {right}")
        self.left = left
        self.right = right


class Money(BaseModel):
    """An exact amount of one currency."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("money amounts must not be floats; pass a Decimal, int or string")
        return value

    @field_validator("amount")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("money amounts must be finite")
        return value

    @field_validator("currency")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            raise ValueError(f"currency must be an ISO 4217 code such as USD, got {value!r}")
        return value

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Self:
        try:
            return cls(amount=Decimal(amount), currency=currency)
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal amount: {amount!r}") from exc

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(amount=Decimal(0), currency=currency)

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float) or not isinstance(factor, Decimal | int):
            raise TypeError("money can only be multiplied by a Decimal or an int")
        return Money(amount=self.amount * factor, currency=self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    @property
    def minor_unit(self) -> int:
        return MINOR_UNITS.get(self.currency, 2)

    def rounded(self) -> Money:
        """Round half-even to the currency's minor unit (used at the invoice line)."""
        quantum = Decimal(1).scaleb(-self.minor_unit)
        return Money(
            amount=self.amount.quantize(quantum, rounding=ROUND_HALF_EVEN), currency=self.currency
        )

    @staticmethod
    def sum(items: list[Money] | tuple[Money, ...], currency: str) -> Money:
        """Sum amounts of one currency; an empty sum is zero in `currency`."""
        total = Money.zero(currency)
        for item in items:
            total = total + item
        return total

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
