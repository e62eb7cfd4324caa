"""What a subscription's row says about it: its price, its next charge, its dues. One rule
each, for the Strawberry types and the compiled read path alike."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from portal_gateway.models.enums import SubscriptionStatus


class SubscriptionFacts(Protocol):
    status: SubscriptionStatus
    quantity: int
    unit_price_minor: int
    dues_minor: int
    cancel_at_period_end: bool
    current_period_end: datetime
    ends_at: datetime | None


def recurring_minor(subscription: SubscriptionFacts) -> int:
    """What each renewal charges before tax, in minor units."""
    return subscription.unit_price_minor * subscription.quantity


def next_billing_date(subscription: SubscriptionFacts) -> datetime | None:
    """When the next renewal is charged; None once it will not renew."""
    if subscription.status is not SubscriptionStatus.ACTIVE or subscription.cancel_at_period_end:
        return None
    if subscription.ends_at is not None and subscription.ends_at <= subscription.current_period_end:
        return None
    return subscription.current_period_end


def outstanding_minor(subscription: SubscriptionFacts) -> int:
    """What must be paid to reactivate an ON_HOLD subscription; zero otherwise."""
    return subscription.dues_minor if subscription.status is SubscriptionStatus.ON_HOLD else 0
