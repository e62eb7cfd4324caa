"""Cancelling and resuming subscriptions.

ACTIVE -> CANCELLED now, or at the period end (it stays ACTIVE with
cancelAtPeriodEnd until then, and resume undoes it); ON_HOLD -> CANCELLED
always now, its dues written off. Cancelling refunds nothing. Anything else
is an InvalidStateError and changes nothing. A charge in flight for the
subscription makes a cancel or resume a ConflictError, so that a plan change
and a cancel cannot both apply.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import Principal
from portal_gateway.core import clock
from portal_gateway.core.errors import InvalidInputError, InvalidStateError
from portal_gateway.core.ids import require_id
from portal_gateway.db import Database
from portal_gateway.models import Subscription
from portal_gateway.models.enums import SubscriptionStatus
from portal_gateway.services.notices import notify_subscription
from portal_gateway.services.subscription_locks import (
    ensure_no_charge_in_flight,
    locked_subscription,
)
from portal_gateway.services.unit_of_work import Actor, in_unit_of_work

MAX_REASON = 500


async def cancel_subscription(
    db: Database, actor: Actor, subscription_id: str, *, at_period_end: bool, reason: str | None
) -> Subscription:
    """cancelSubscription, in one unit of work."""

    async def work(session: AsyncSession) -> Subscription:
        return await _cancel(
            session,
            actor.principal,
            require_id(subscription_id, "Subscription"),
            at_period_end=at_period_end,
            reason=reason,
        )

    return await in_unit_of_work(
        db, actor, "cancelSubscription", work,
        target_type="Subscription", target_id=subscription_id,
    )  # fmt: skip


async def resume_subscription(db: Database, actor: Actor, subscription_id: str) -> Subscription:
    """resumeSubscription, in one unit of work."""

    async def work(session: AsyncSession) -> Subscription:
        return await _resume(session, actor.principal, require_id(subscription_id, "Subscription"))

    return await in_unit_of_work(
        db, actor, "resumeSubscription", work,
        target_type="Subscription", target_id=subscription_id,
    )  # fmt: skip


async def _cancel(
    session: AsyncSession,
    principal: Principal,
    subscription_id: str,
    *,
    at_period_end: bool,
    reason: str | None,
) -> Subscription:
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInputError(f"reason is at most {MAX_REASON} characters.", field="reason")
    subscription = await locked_subscription(session, principal, subscription_id)
    status = subscription.status
    if status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.ON_HOLD):
        raise InvalidStateError(f"A {status.value} subscription cannot be cancelled.", status.value)
    if status is SubscriptionStatus.ACTIVE and at_period_end and subscription.cancel_at_period_end:
        raise InvalidStateError(
            "This subscription is already set to end at the period end.", status.value
        )
    await ensure_no_charge_in_flight(session, subscription.id)
    now = clock.now()
    subscription.cancellation_reason = reason.strip() if reason else None
    if status is SubscriptionStatus.ACTIVE and at_period_end:
        subscription.cancel_at_period_end = True
        ends_at = subscription.current_period_end
    else:
        subscription.status = SubscriptionStatus.CANCELLED
        subscription.cancelled_at = now
        subscription.cancel_at_period_end = False
        subscription.dues_minor = 0  # ON_HOLD dues are written off; nothing is refunded
        ends_at = now
    await session.flush()
    await notify_subscription(
        session, subscription, "subscription_cancelled", ends_at=ends_at.isoformat()
    )
    return subscription


async def _resume(
    session: AsyncSession, principal: Principal, subscription_id: str
) -> Subscription:
    subscription = await locked_subscription(session, principal, subscription_id)
    if not (
        subscription.status is SubscriptionStatus.ACTIVE
        and subscription.cancel_at_period_end
        and clock.now() < subscription.current_period_end
    ):
        raise InvalidStateError(
            "Only a subscription set to end at the period end can be resumed.",
            subscription.status.value,
        )
    await ensure_no_charge_in_flight(session, subscription.id)
    subscription.cancel_at_period_end = False
    subscription.cancellation_reason = None
    await session.flush()
    await notify_subscription(
        session,
        subscription,
        "subscription_resumed",
        next_billing_at=subscription.current_period_end.isoformat(),
    )
    return subscription
