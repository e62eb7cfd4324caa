"""Saved cards: add, remove, and put one on a subscription (which pays its dues)."""

from __future__ import annotations

from portal_gateway.models import PaymentMethod
from portal_gateway.resolvers.context import Context
from portal_gateway.resolvers.global_ids import input_id
from portal_gateway.services import card_updates, cards
from portal_gateway.services.card_updates import CardUpdated


async def add(ctx: Context, business_id: str, token: str) -> PaymentMethod:
    resources = ctx.resources
    return await cards.add_payment_method(
        resources.db,
        resources.processor,
        resources.rate_limits,
        ctx.actor,
        business_id=input_id(business_id, "Business"),
        token=token,
    )


async def remove(ctx: Context, payment_method_id: str) -> str:
    return await cards.remove_payment_method(
        ctx.resources.db, ctx.actor, input_id(payment_method_id, "PaymentMethod")
    )


async def update(
    ctx: Context,
    subscription_id: str,
    *,
    payment_method_id: str | None,
    token: str | None,
    idempotency_key: str | None,
) -> CardUpdated:
    resources = ctx.resources
    return await card_updates.update_payment_method(
        resources.db,
        resources.processor,
        resources.rate_limits,
        ctx.actor,
        subscription_id=input_id(subscription_id, "Subscription"),
        payment_method_id=(
            input_id(payment_method_id, "PaymentMethod") if payment_method_id is not None else None
        ),
        token=token,
        idempotency_key=idempotency_key,
    )
