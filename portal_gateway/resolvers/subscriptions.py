"""Subscriptions: the fields that need more than their row, and the customer's changes."""

from __future__ import annotations

from dataclasses import dataclass

from portal_gateway.loaders import Loaders
from portal_gateway.loaders.pagination import Page, PageRequest
from portal_gateway.models import Business, Invoice, Product, Subscription
from portal_gateway.resolvers.context import Context
from portal_gateway.resolvers.global_ids import input_id
from portal_gateway.services import plan_changes, subscriptions
from portal_gateway.services.plan_change_rules import PlanChangeOption, plan_change_options
from portal_gateway.services.plan_changes import PlanChanged, PlanChangePreview


async def plan_change_options_of(
    ctx: Context, subscription: Subscription
) -> list[PlanChangeOption]:
    current = await ctx.loaders.product.load(subscription.product_id)
    business = await ctx.loaders.business.load(subscription.business_id)
    if current is None or business is None or current.collection_id is None:
        return []
    candidates = await ctx.loaders.products_by_collection.load(current.collection_id)
    return plan_change_options(subscription, current, business, candidates)


async def invoices_of(
    ctx: Context, subscription: Subscription, first: int | None, after: str | None
) -> Page[Invoice]:
    page = PageRequest.parse(first, after)
    return await ctx.loaders.invoice_page_by_subscription.load((subscription.id, page))


@dataclass(frozen=True)
class _LoadedReads:
    """A preview's reads through the request's loaders: previews of many subscriptions in one
    response cost the same statements as one."""

    loaders: Loaders

    async def product(self, product_id: str) -> Product | None:
        return await self.loaders.product.load(product_id)

    async def business(self, business_id: str) -> Business | None:
        return await self.loaders.business.load(business_id)

    async def credit_balance(self, account_id: str, currency: str) -> int:
        balances = await self.loaders.credit_balances_by_account.load(account_id)
        return sum(b.amount_minor for b in balances if b.currency == currency)


async def preview_plan_change(
    ctx: Context, subscription: Subscription, product_id: str
) -> PlanChangePreview:
    return await plan_changes.preview_plan_change(
        _LoadedReads(ctx.loaders), subscription, input_id(product_id, "Product")
    )


async def cancel(
    ctx: Context, subscription_id: str, *, at_period_end: bool, reason: str | None
) -> Subscription:
    return await subscriptions.cancel_subscription(
        ctx.resources.db,
        ctx.actor,
        input_id(subscription_id, "Subscription"),
        at_period_end=at_period_end,
        reason=reason,
    )


async def resume(ctx: Context, subscription_id: str) -> Subscription:
    return await subscriptions.resume_subscription(
        ctx.resources.db, ctx.actor, input_id(subscription_id, "Subscription")
    )


async def change_plan(
    ctx: Context, subscription_id: str, product_id: str, idempotency_key: str | None
) -> PlanChanged:
    return await plan_changes.change_plan(
        ctx.resources.db,
        ctx.resources.processor,
        ctx.actor,
        subscription_id=input_id(subscription_id, "Subscription"),
        product_id=input_id(product_id, "Product"),
        idempotency_key=idempotency_key,
    )
