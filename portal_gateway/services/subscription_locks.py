"""Changes to one subscription, one at a time: a row lock (PostgreSQL; SQLite's single writer
serializes anyway) and no change while a charge for it is in flight, so that a plan change
and a cancel, or two plan changes, cannot both apply."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import Principal
from portal_gateway.core.errors import ConflictError
from portal_gateway.models import Payment, Subscription
from portal_gateway.models.enums import PaymentStatus
from portal_gateway.queries.subscriptions import subscription_in_scope


async def locked_subscription(
    session: AsyncSession, principal: Principal, subscription_id: str
) -> Subscription:
    """The subscription in scope (else NotFoundError), locked for this transaction."""
    return await subscription_in_scope(session, principal, subscription_id, for_update=True)


async def ensure_no_charge_in_flight(session: AsyncSession, subscription_id: str) -> None:
    """ConflictError while a PENDING payment for the subscription awaits its outcome."""
    found = await session.scalar(
        select(Payment.id).where(
            Payment.subscription_id == subscription_id, Payment.status == PaymentStatus.PENDING
        )
    )
    if found is not None:
        raise ConflictError("A charge for this subscription is in progress; try again shortly.")
