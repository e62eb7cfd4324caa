"""Subscriptions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import Principal
from portal_gateway.core.errors import NotFoundError
from portal_gateway.models import Subscription
from portal_gateway.models.enums import SubscriptionStatus
from portal_gateway.queries.readable import readable


def readable_subscriptions(
    principal: Principal,
    *,
    business_id: str | None = None,
    statuses: Sequence[SubscriptionStatus] | None = None,
) -> Select[Subscription]:
    stmt = readable(Subscription, principal, business_id=business_id)
    return stmt.where(Subscription.status.in_(statuses)) if statuses else stmt


async def subscription_in_scope(
    session: AsyncSession, principal: Principal, subscription_id: str, *, for_update: bool = False
) -> Subscription:
    """The subscription, or NotFoundError: out of scope is the same as absent. With
    `for_update`, locked for the transaction (a row lock on PostgreSQL; SQLite's single
    writer already serializes)."""
    stmt = readable(Subscription, principal).where(Subscription.id == subscription_id)
    subscription = await session.scalar(stmt.with_for_update() if for_update else stmt)
    if subscription is None:
        raise NotFoundError("No such subscription.")
    return subscription
