"""Proration is exact: integer minor units, half-even per line, and the money balances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_gateway.services.proration import quote_plan_change

START = datetime(2026, 11, 1, tzinfo=UTC)


def _half_even(value: Fraction) -> int:
    """An independent rounding: Decimal's, to check the service's Fraction rounding."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))


def _quote(
    old: int,
    new: int,
    *,
    quantity: int = 1,
    elapsed: timedelta,
    period: timedelta,
    tax_bps: int = 0,
    credit: int = 0,
    currency: str = "USD",
):  # type: ignore[no-untyped-def]
    return quote_plan_change(
        old_name="Old", old_unit_minor=old, new_name="New", new_unit_minor=new,
        quantity=quantity, currency=currency, old_taxable=tax_bps > 0, new_taxable=tax_bps > 0,
        tax_rate_bps=tax_bps, period_start=START, period_end=START + period,
        now=START + elapsed, credit_balance_minor=credit,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("currency", "old", "new", "days_used", "credit_line", "charge_line"),
    [
        # 30-day period; f = (30 - days_used) / 30
        ("USD", 1000, 3000, 10, -667, 2000),  # f = 2/3: 666.67 -> 667
        ("USD", 1000, 3000, 0, -1000, 3000),  # at the start: everything
        ("USD", 1000, 3000, 30, 0, 0),  # at the end: nothing
        ("USD", 999, 1999, 15, -500, 1000),  # f = 1/2: 499.5 -> 500 (even), 999.5 -> 1000
        ("JPY", 500, 1200, 10, -333, 800),  # zero-decimal currency: 333.33 -> 333
        ("JPY", 3, 5, 15, -2, 2),  # 1.5 -> 2, 2.5 -> 2: ties go to even
        ("KWD", 1500, 4250, 20, -500, 1417),  # three decimals: 1416.67 -> 1417
        ("KWD", 9750, 1500, 5, -8125, 1250),  # a downgrade
    ],
)
def test_lines_at_points_in_the_period(
    currency: str, old: int, new: int, days_used: int, credit_line: int, charge_line: int
) -> None:
    quote = _quote(old, new, elapsed=timedelta(days=days_used), period=timedelta(days=30),
                   currency=currency)  # fmt: skip
    assert [line.amount_minor for line in quote.lines] == [credit_line, charge_line]
    total = credit_line + charge_line
    assert quote.total_minor == total
    assert quote.amount_due_minor == max(total, 0)
    assert quote.credit_added_minor == max(-total, 0)


def test_tax_is_per_line_half_even() -> None:
    quote = _quote(1000, 3000, elapsed=timedelta(days=10), period=timedelta(days=30), tax_bps=1900)
    assert [(line.amount_minor, line.tax_minor) for line in quote.lines] == [
        (-667, -127),
        (2000, 380),
    ]
    assert quote.total_minor == 1586


def test_credit_is_used_first() -> None:
    quote = _quote(1000, 3000, elapsed=timedelta(days=10), period=timedelta(days=30), credit=500)
    assert (quote.credit_used_minor, quote.amount_due_minor) == (500, 833)
    covered = _quote(1000, 3000, elapsed=timedelta(days=10), period=timedelta(days=30), credit=5000)
    assert (covered.credit_used_minor, covered.amount_due_minor) == (1333, 0)


@given(
    old=st.integers(min_value=0, max_value=10**9),
    new=st.integers(min_value=0, max_value=10**9),
    quantity=st.integers(min_value=1, max_value=1000),
    period_seconds=st.integers(min_value=1, max_value=400 * 86400),
    elapsed_micros=st.integers(min_value=-(10**12), max_value=500 * 86400 * 10**6),
    tax_bps=st.integers(min_value=0, max_value=10000),
    credit=st.integers(min_value=0, max_value=10**10),
)
def test_the_money_always_balances(
    old: int, new: int, quantity: int, period_seconds: int, elapsed_micros: int, tax_bps: int,
    credit: int,
) -> None:  # fmt: skip
    period = timedelta(seconds=period_seconds)
    quote = _quote(old, new, quantity=quantity, elapsed=timedelta(microseconds=elapsed_micros),
                   period=period, tax_bps=tax_bps, credit=credit)  # fmt: skip
    # Every amount is an int: no float ever touched them.
    amounts = [quote.amount_due_minor, quote.credit_used_minor, quote.credit_added_minor]
    amounts += [v for line in quote.lines for v in (line.amount_minor, line.tax_minor)]
    assert all(type(value) is int for value in amounts)
    # charged + credit used - credit added = the sum of the lines with their tax
    lines_total = sum(line.amount_minor + line.tax_minor for line in quote.lines)
    assert (
        quote.amount_due_minor + quote.credit_used_minor - quote.credit_added_minor == lines_total
    )
    assert quote.amount_due_minor >= 0 and quote.credit_added_minor >= 0
    assert 0 <= quote.credit_used_minor <= credit
    # Each line is the exact share, rounded half-even (checked against Decimal's rounding).
    period_us = period // timedelta(microseconds=1)
    remaining = min(max(period_us - elapsed_micros, 0), period_us)
    fraction = Fraction(remaining, period_us)
    credit_line, charge_line = quote.lines
    assert credit_line.amount_minor == -_half_even(old * quantity * fraction)
    assert charge_line.amount_minor == _half_even(new * quantity * fraction)
    assert charge_line.tax_minor == _half_even(Fraction(charge_line.amount_minor * tax_bps, 10000))
