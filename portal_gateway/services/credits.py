"""The credit ledger: what downgrades leave on an account, per currency, for later invoices."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.core.errors import ConflictError
from portal_gateway.models import CreditBalance, Subscription


async def adjust_credit(session: AsyncSession, subscription: Subscription, delta: int) -> None:
    """Add `delta` (negative: use) to the account's credit in the subscription's currency;
    never below zero, or the change conflicts with another that used the same credit."""
    if delta == 0:
        return
    changed = await session.execute(
        update(CreditBalance)
        .where(
            CreditBalance.account_id == subscription.account_id,
            CreditBalance.currency == subscription.currency,
            CreditBalance.amount_minor + delta >= 0,
        )
        .values(amount_minor=CreditBalance.amount_minor + delta)
        .returning(CreditBalance.id)
    )
    if changed.first() is not None:
        return
    if delta < 0:
        raise ConflictError("The account's credit changed; try again.")
    try:
        async with session.begin_nested():
            session.add(
                CreditBalance(
                    business_id=subscription.business_id,
                    account_id=subscription.account_id,
                    currency=subscription.currency,
                    amount_minor=delta,
                )
            )
    except IntegrityError:  # created meanwhile by another change: add to it
        await adjust_credit(session, subscription, delta)
