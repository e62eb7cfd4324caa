"""Customer mutations on subscriptions: cancel, resume, change plan; and the preview."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.core import clock
from portal_gateway.core.errors import DomainError, NotFoundError
from portal_gateway.models import Product, Subscription
from portal_gateway.models.enums import PlanChangeDirection
from portal_gateway.resolvers.context import Context
from portal_gateway.resolvers.global_ids import input_id
from portal_gateway.resolvers.unit_of_work import run_mutation
from portal_gateway.services import billing, subscriptions
from portal_gateway.services.billing import PendingCharge, PlanChanged
from portal_gateway.services.proration import PlanChangeQuote


async def cancel(
    ctx: Context, subscription_id: str, *, at_period_end: bool, reason: str | None
) -> Subscription | DomainError:
    async def work(session: AsyncSession) -> Subscription:
        return await subscriptions.cancel_subscription(
            session,
            ctx.principal,
            input_id(subscription_id, "Subscription"),
            at_period_end=at_period_end,
            reason=reason,
        )

    return await run_mutation(
        ctx, "cancelSubscription", work, target_type="Subscription", target_id=subscription_id
    )


async def resume(ctx: Context, subscription_id: str) -> Subscription | DomainError:
    async def work(session: AsyncSession) -> Subscription:
        return await subscriptions.resume_subscription(
            session, ctx.principal, input_id(subscription_id, "Subscription")
        )

    return await run_mutation(
        ctx, "resumeSubscription", work, target_type="Subscription", target_id=subscription_id
    )


async def change_plan(
    ctx: Context, subscription_id: str, product_id: str, idempotency_key: str | None
) -> PlanChanged | DomainError:
    """Two transactions around one processor call (services/billing.py says why)."""

    async def begin(session: AsyncSession) -> PlanChanged | PendingCharge:
        return await billing.begin_plan_change(
            session,
            ctx.principal,
            subscription_id=input_id(subscription_id, "Subscription"),
            product_id=input_id(product_id, "Product"),
            idempotency_key=idempotency_key,
        )

    target = {"target_type": "Subscription", "target_id": subscription_id}
    started = await run_mutation(ctx, "changePlan", begin, **target)
    if not isinstance(started, PendingCharge):
        return started
    charged = await ctx.processor.charge(
        started.payment_method_ref, started.amount_minor, started.currency, started.payment_id
    )

    async def record(session: AsyncSession) -> PlanChanged | DomainError:
        return await billing.settle(session, started.payment_id, charged)

    return await run_mutation(ctx, "changePlan.settle", record, **target)


@dataclass(frozen=True)
class PlanChangePreview:
    product: Product
    direction: PlanChangeDirection
    quote: PlanChangeQuote
    new_recurring_minor: int


async def preview(
    ctx: Context, subscription: Subscription, product_id: str
) -> PlanChangePreview | DomainError:
    """What changePlan would do now, from the request's loaders; changes nothing."""
    try:
        target = await ctx.loaders.product.load(input_id(product_id, "Product"))
        if target is None or target.business_id != subscription.business_id:
            raise NotFoundError("No such product.")
        current = await ctx.loaders.product.load(subscription.product_id)
        business = await ctx.loaders.business.load(subscription.business_id)
        assert current is not None and business is not None
        balances = await ctx.loaders.credit_balances_by_account.load(subscription.account_id)
        balance = sum(b.amount_minor for b in balances if b.currency == subscription.currency)
        direction, quote = billing.quote_change(
            subscription, current, target, business, balance, clock.now()
        )
    except DomainError as error:
        return error
    return PlanChangePreview(
        product=target,
        direction=direction,
        quote=quote,
        new_recurring_minor=target.price_minor * subscription.quantity,
    )
