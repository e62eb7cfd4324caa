"""resumeSubscription."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.resolvers import subscriptions as subscription_resolvers
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import (
    ConflictError,
    InvalidStateError,
    NotFoundError,
    mutation,
)
from portal_gateway.schema.permissions import IsCustomer
from portal_gateway.schema.subscriptions.types import Subscription


@strawberry.input
class ResumeSubscriptionInput:
    subscription_id: strawberry.ID


@strawberry.type
class ResumeSubscriptionSuccess:
    subscription: Subscription


ResumeSubscriptionResult = Annotated[
    ResumeSubscriptionSuccess | NotFoundError | InvalidStateError | ConflictError,
    strawberry.union("ResumeSubscriptionResult"),
]


async def resume_subscription(
    info: Info, input: ResumeSubscriptionInput
) -> ResumeSubscriptionResult:
    resumed = await subscription_resolvers.resume(info.context, input.subscription_id)
    return ResumeSubscriptionSuccess(subscription=Subscription(row=resumed))


field = mutation(
    resume_subscription,
    description="Undoes a cancellation scheduled for the period end; the subscription "
    "renews again.",
    permission_classes=[IsCustomer],
)
