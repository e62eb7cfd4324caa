"""Billing periods: where the period after one ends."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from portal_gateway.models.enums import BillingInterval


def add_interval(moment: datetime, interval: BillingInterval) -> datetime:
    """`moment` one interval later, by the calendar: a month after 31 January is the last
    day of February, a year after 29 February is 28 February."""
    if interval is BillingInterval.DAY:
        return moment + timedelta(days=1)
    if interval is BillingInterval.WEEK:
        return moment + timedelta(weeks=1)
    months = 1 if interval is BillingInterval.MONTH else 12
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
