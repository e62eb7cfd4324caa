"""Which plans a subscription may move to, in which direction: one rule for the
options a customer is shown and for the change itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portal_gateway.core.errors import InvalidStateError, PlanChangeNotAllowedError
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


def check_plan_change(
    subscription: Subscription, current: Product, target: Product, business: Business
) -> PlanChangeDirection:
    """The direction of an allowed move; InvalidStateError or PlanChangeNotAllowedError else."""
    if subscription.status is not SubscriptionStatus.ACTIVE:
        raise InvalidStateError(
            f"A {subscription.status.value} subscription cannot change plans.",
            status=subscription.status.value,
        )
    if subscription.cancel_at_period_end:
        raise InvalidStateError(
            "This subscription is set to end; resume it before changing plans.",
            status=subscription.status.value,
        )
    if not business.allow_subscription_updates:
        raise PlanChangeNotAllowedError(
            "DISABLED_BY_BUSINESS", f"{business.name} does not allow plan changes in the portal."
        )
    if target.type not in RECURRING_TYPES:
        raise PlanChangeNotAllowedError(
            "NOT_A_SUBSCRIPTION_PRODUCT", f"{target.name} is not a subscription plan."
        )
    if target.id == current.id:
        raise PlanChangeNotAllowedError(
            "SAME_PRODUCT", f"This subscription is already on {target.name}."
        )
    if current.collection_id is None or target.collection_id != current.collection_id:
        raise PlanChangeNotAllowedError(
            "DIFFERENT_COLLECTION",
            f"{target.name} is not a plan of this subscription's collection.",
        )
    if (
        target.currency != subscription.currency
        or target.billing_interval is not subscription.billing_interval
    ):
        raise PlanChangeNotAllowedError(
            "DIFFERENT_CURRENCY_OR_INTERVAL",
            f"{target.name} is billed in another currency or interval.",
        )
    return direction_of(subscription, target)


def plan_change_options(
    subscription: Subscription,
    current: Product,
    business: Business,
    collection_products: Iterable[Product],
) -> list[PlanChangeOption]:
    """The products this subscription may move to now; none when the business disallows it."""
    options = []
    for product in collection_products:
        try:
            direction = check_plan_change(subscription, current, product, business)
        except (InvalidStateError, PlanChangeNotAllowedError):
            continue
        options.append(PlanChangeOption(product, direction))
    return options
