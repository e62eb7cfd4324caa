"""The arithmetic of a plan change, exact to the minor unit.

With f = the unused part of the current period (remaining / period length,
as an exact fraction of microseconds) and each plan's amount = unit price *
quantity, a change makes two lines: a credit of -round(old * f) for the
unused old plan and a charge of round(new * f) for the rest of the period on
the new one, each rounded half-even. Tax is computed per line at the
business's rate, half-even. The account's credit in the currency is used
first; a positive rest is charged now; a negative total becomes credit.
Invariant: charged + credit used - credit added = the sum of the lines with tax.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from portal_gateway.core.money import round_half_even
from portal_gateway.services.invoices import LineDraft

_MICROSECOND = timedelta(microseconds=1)


def unused_fraction(period_start: datetime, period_end: datetime, now: datetime) -> Fraction:
    """The part of the period still to come, in [0, 1]."""
    period = (period_end - period_start) // _MICROSECOND
    if period <= 0:
        return Fraction(0)
    remaining = (period_end - now) // _MICROSECOND
    return Fraction(min(max(remaining, 0), period), period)


def prorate(amount_minor: int, fraction: Fraction) -> int:
    return round_half_even(amount_minor * fraction)


@dataclass(frozen=True)
class PlanChangeQuote:
    lines: tuple[LineDraft, LineDraft]
    currency: str
    # What is charged to the card now, after the account's credit.
    amount_due_minor: int
    credit_used_minor: int
    credit_added_minor: int

    @property
    def subtotal_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    @property
    def tax_minor(self) -> int:
        return sum(line.tax_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.tax_minor


def quote_plan_change(
    *,
    old_name: str,
    old_unit_minor: int,
    new_name: str,
    new_unit_minor: int,
    quantity: int,
    currency: str,
    old_taxable: bool,
    new_taxable: bool,
    tax_rate_bps: int,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
    credit_balance_minor: int,
) -> PlanChangeQuote:
    fraction = unused_fraction(period_start, period_end, now)
    credit = -prorate(old_unit_minor * quantity, fraction)
    charge = prorate(new_unit_minor * quantity, fraction)
    start = min(max(now, period_start), period_end)
    lines = (
        LineDraft.taxed(
            f"Unused time on {old_name}",
            quantity,
            -old_unit_minor,
            credit,
            tax_rate_bps=tax_rate_bps if old_taxable else 0,
            proration=True,
            period_start=start,
            period_end=period_end,
        ),
        LineDraft.taxed(
            f"Remaining time on {new_name}",
            quantity,
            new_unit_minor,
            charge,
            tax_rate_bps=tax_rate_bps if new_taxable else 0,
            proration=True,
            period_start=start,
            period_end=period_end,
        ),
    )
    total = sum(line.amount_minor + line.tax_minor for line in lines)
    if total > 0:
        used = min(max(credit_balance_minor, 0), total)
        return PlanChangeQuote(lines, currency, total - used, used, 0)
    return PlanChangeQuote(lines, currency, 0, 0, -total)
