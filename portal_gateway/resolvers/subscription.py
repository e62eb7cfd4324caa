"""Subscription fields that need more than one row."""

from __future__ import annotations

from portal_gateway.loaders.pagination import Page, PageRequest
from portal_gateway.models import Invoice, Subscription
from portal_gateway.resolvers.context import Context
from portal_gateway.services.plan_changes import PlanChangeOption, plan_change_options


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
