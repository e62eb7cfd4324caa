"""Money in integer minor units of an ISO 4217 currency.

No floats anywhere: amounts are ints, conversions go through Decimal, rounding
is half-even to the minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

# ISO 4217 minor-unit exponents. Anything not listed here is refused rather
# than guessed: a wrong exponent misstates an amount by a factor of 10.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
    "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2,
    "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2,
    "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "SAR": 2, "SEK": 2, "SGD": 2,
    "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UGX": 0, "USD": 2, "VND": 0, "XOF": 0,
    "ZAR": 2,
}  # fmt: skip


class UnknownCurrencyError(ValueError):
    pass


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrencyError(f"unknown currency {currency!r}") from None


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: `minor` units of `currency` (1250 USD is 12.50 USD)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.minor) is not int:
            raise TypeError("Money.minor must be an int")
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    def to_decimal(self) -> Decimal:
        """Major units with exactly the currency's number of decimals."""
        return Decimal(self.minor).scaleb(-self.exponent)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")


def round_half_even(value: Fraction) -> int:
    """Round an exact fraction of minor units to an int, ties to even.

    `round()` on a Fraction is exact and rounds half to even, unlike float math.
    """
    return round(value)


def parse_major(amount: str, currency: str) -> Money:
    """'12.50' USD -> Money(1250, 'USD'); refuses more decimals than the currency has."""
    value = Decimal(amount)
    exponent = currency_exponent(currency)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value(rounding=ROUND_HALF_EVEN):
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return Money(int(minor), currency)
