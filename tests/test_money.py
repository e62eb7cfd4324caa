"""Money: integer minor units, exact decimals, half-even rounding, no floats."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_gateway.core.money import Money, UnknownCurrencyError, parse_major, round_half_even


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1250, "USD", "12.50"),
        (-5, "EUR", "-0.05"),
        (0, "USD", "0.00"),
        (1000, "JPY", "1000"),
        (1234, "KWD", "1.234"),
        (9_223_372_036_854_775_807, "USD", "92233720368547758.07"),
    ],
)
def test_decimal_strings_carry_the_currency_exponent(minor: int, currency: str, text: str) -> None:
    assert str(Money(minor, currency).to_decimal()) == text


def test_floats_and_unknown_currencies_are_refused() -> None:
    with pytest.raises(TypeError):
        Money(12.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(UnknownCurrencyError):
        Money(1, "XXX")
    with pytest.raises(ValueError, match="cannot combine"):
        _ = Money(1, "USD") + Money(1, "EUR")


@pytest.mark.parametrize(
    ("value", "rounded"),
    [(Fraction(5, 2), 2), (Fraction(7, 2), 4), (Fraction(-5, 2), -2), (Fraction(10, 3), 3)],
)
def test_rounding_is_half_even(value: Fraction, rounded: int) -> None:
    assert round_half_even(value) == rounded


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["USD", "JPY", "KWD"]))
def test_major_units_round_trip(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert parse_major(str(money.to_decimal()), currency) == money


def test_too_many_decimals_are_refused() -> None:
    with pytest.raises(ValueError, match="decimals"):
        parse_major("1.005", "USD")
    assert parse_major("1000", "JPY") == Money(1000, "JPY")
    assert Money(1, "KWD").to_decimal() == Decimal("0.001")
