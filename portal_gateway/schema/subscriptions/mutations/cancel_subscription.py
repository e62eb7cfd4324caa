"""cancelSubscription."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.resolvers import subscriptions as subscription_resolvers
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import (
    ConflictError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    mutation,
)
from portal_gateway.schema.permissions import IsCustomer
from portal_gateway.schema.subscriptions.types import Subscription


@strawberry.input
class CancelSubscriptionInput:
    subscription_id: strawberry.ID
    at_period_end: bool = strawberry.field(
        default=True,
        description="True: it stays active until currentPeriodEnd, then ends. False: it ends "
        "now. An ON_HOLD subscription always ends now.",
    )
    reason: str | None = None


@strawberry.type
class CancelSubscriptionSuccess:
    subscription: Subscription


# InvalidInputError is not in the contract's union; a reason over 500 characters needs it
# (it was an internal error without it).
CancelSubscriptionResult = Annotated[
    CancelSubscriptionSuccess
    | NotFoundError
    | InvalidStateError
    | ConflictError
    | InvalidInputError,
    strawberry.union("CancelSubscriptionResult"),
]


async def cancel_subscription(
    info: Info, input: CancelSubscriptionInput
) -> CancelSubscriptionResult:
    cancelled = await subscription_resolvers.cancel(
        info.context, input.subscription_id, at_period_end=input.at_period_end,
        reason=input.reason,
    )  # fmt: skip
    return CancelSubscriptionSuccess(subscription=Subscription(row=cancelled))


field = mutation(cancel_subscription, permission_classes=[IsCustomer])
