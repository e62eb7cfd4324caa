"""A customer's billing details at one business."""

from __future__ import annotations

from portal_gateway.loaders.pagination import Page, PageRequest
from portal_gateway.models import CustomerAccount, Subscription
from portal_gateway.resolvers.context import Context
from portal_gateway.resolvers.global_ids import input_id
from portal_gateway.services import accounts
from portal_gateway.services.accounts import AddressInput


async def update_billing_details(
    ctx: Context,
    account_id: str,
    *,
    name: str | None,
    phone: str | None,
    address: AddressInput | None,
    tax_id: str | None = None,
    locale: str | None = None,
) -> CustomerAccount:
    return await accounts.update_billing_details(
        ctx.resources.db,
        ctx.actor,
        input_id(account_id, "CustomerAccount"),
        name=name,
        phone=phone,
        address=address,
        tax_id=tax_id,
        locale=locale,
    )


async def subscriptions_of(
    ctx: Context, account: CustomerAccount, first: int | None, after: str | None
) -> Page[Subscription]:
    """Newest first. A merchant's key reads them to build flow links; a portal session, its
    own; the loader's scope keeps anyone else's out."""
    page = PageRequest.parse(first, after)
    return await ctx.loaders.subscription_page_by_account.load((account.id, page))
