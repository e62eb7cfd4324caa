"""Which plans a subscription may move to, and in which direction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portal_gateway.models import Business, Product, Subscription
from portal_gateway.models.enums import PlanChangeDirection, ProductType, SubscriptionStatus

RECURRING_TYPES = frozenset({ProductType.SUBSCRIPTION, ProductType.USAGE_BASED})


@dataclass(frozen=True)
class PlanChangeOption:
    product: Product
    direction: PlanChangeDirection


def direction_of(subscription: Subscription, product: Product) -> PlanChangeDirection:
    """A higher price is an upgrade; an equal or lower one a downgrade."""
    old_amount = subscription.unit_price_minor * subscription.quantity
    new_amount = product.price_minor * subscription.quantity
    return PlanChangeDirection.UPGRADE if new_amount > old_amount else PlanChangeDirection.DOWNGRADE


def plan_change_options(
    subscription: Subscription,
    current: Product,
    business: Business,
    collection_products: Iterable[Product],
) -> list[PlanChangeOption]:
    """The products of the same collection, recurring, in the same currency and interval,
    that an ACTIVE subscription may move to now; none when the business disallows it."""
    if not business.allow_subscription_updates or current.collection_id is None:
        return []
    if subscription.status is not SubscriptionStatus.ACTIVE or subscription.cancel_at_period_end:
        return []
    return [
        PlanChangeOption(product, direction_of(subscription, product))
        for product in collection_products
        if product.id != current.id
        and product.collection_id == current.collection_id
        and product.type in RECURRING_TYPES
        and product.currency == subscription.currency
        and product.billing_interval is subscription.billing_interval
    ]
