"""Money: exact Decimal arithmetic, one currency at a time, half-even at the line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.money import CurrencyMismatch, Money

amounts = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=4
)
currencies = st.sampled_from(["USD", "GBP", "EUR", "JPY", "KWD"])


@given(amounts, amounts, amounts, currencies)
def test_addition_is_exact_associative_and_commutative(
    a: Decimal, b: Decimal, c: Decimal, cur: str
) -> None:
    x, y, z = Money.of(a, cur), Money.of(b, cur), Money.of(c, cur)
    assert (x + y) + z == x + (y + z)
    assert x + y == y + x
    assert (x + y).amount == a + b


@given(amounts, currencies)
def test_subtracting_itself_gives_zero(a: Decimal, cur: str) -> None:
    m = Money.of(a, cur)
    assert m - m == Money.zero(cur)
    assert (-m) + m == Money.zero(cur)


@given(amounts, amounts, currencies, currencies)
def test_different_currencies_never_combine(a: Decimal, b: Decimal, c1: str, c2: str) -> None:
    if c1 == c2:
        assert (Money.of(a, c1) + Money.of(b, c2)).currency == c1
        return
    with pytest.raises(CurrencyMismatch):
        Money.of(a, c1) + Money.of(b, c2)
    with pytest.raises(CurrencyMismatch):
        _ = Money.of(a, c1) < Money.of(b, c2)


@given(amounts, currencies)
def test_rounding_goes_to_the_minor_unit_and_is_idempotent(a: Decimal, cur: str) -> None:
    r = Money.of(a, cur).rounded()
    assert r.amount.as_tuple().exponent == -r.minor_unit
    assert r.rounded() == r
    assert abs(r.amount - a) <= Decimal(1).scaleb(-r.minor_unit) / 2


def test_rounding_is_half_even() -> None:
    assert Money.of("0.125", "USD").rounded().amount == Decimal("0.12")
    assert Money.of("0.135", "USD").rounded().amount == Decimal("0.14")
    assert Money.of("2.5", "JPY").rounded().amount == Decimal("2")
    assert Money.of("1.0005", "KWD").rounded().amount == Decimal("1.000")


def test_floats_are_refused() -> None:
    with pytest.raises(ValidationError, match="float"):
        Money.model_validate({"amount": 0.1, "currency": "USD"})
    factor: Any = 0.5
    with pytest.raises(TypeError):
        Money.of(1, "USD") * factor


@pytest.mark.parametrize("code", ["usd", "US", "USDX", "1SD", ""])
def test_currency_must_be_an_iso_code(code: str) -> None:
    with pytest.raises(ValidationError):
        Money.of(1, code)


def test_sum_of_nothing_is_zero_in_the_given_currency() -> None:
    assert Money.sum([], "EUR") == Money.zero("EUR")
    assert Money.sum([Money.of("1.10", "EUR"), Money.of("2.20", "EUR")], "EUR").amount == Decimal(
        "3.30"
    )


def test_money_is_frozen() -> None:
    m = Money.of(1, "USD")
    with pytest.raises(ValidationError):
        m.amount = Decimal(2)  # type: ignore[misc]
