"""Emails about a customer's subscription or cards, queued in the transaction of the change
they report (DESIGN.md: Email), in the account's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.core.money import Money
from portal_gateway.models import Business, CustomerAccount, Product, Subscription
from portal_gateway.notifications.outbox import Email, queue_email


def amount(minor: int, currency: str) -> dict[str, str]:
    """An amount as an email's template formats it."""
    return {"amount": str(Money(minor, currency).to_decimal()), "currency": currency}


async def notify_account(
    session: AsyncSession, account: CustomerAccount, template: str, **context: Any
) -> None:
    """An email to the account's holder, with their name and the business's."""
    business = await session.get_one(Business, account.business_id)
    await queue_email(
        session,
        Email(
            recipient=account.email,
            template=template,
            locale=account.locale,
            context={"name": account.name, "business_name": business.name, **context},
        ),
    )


async def notify_subscription(
    session: AsyncSession, subscription: Subscription, template: str, **context: Any
) -> None:
    """An email about `subscription`, naming its plan too."""
    account = await session.get_one(CustomerAccount, subscription.account_id)
    product = await session.get_one(Product, subscription.product_id)
    await notify_account(session, account, template, plan=product.name, **context)
