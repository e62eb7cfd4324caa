"""What a merchant's API key reads and changes: its business and its customers."""

from __future__ import annotations

from portal_gateway.auth.principal import MerchantPrincipal
from portal_gateway.loaders.pagination import Page, PageRequest, paginate
from portal_gateway.models import Business, CustomerAccount
from portal_gateway.queries import accounts
from portal_gateway.resolvers.context import Context
from portal_gateway.services import businesses
from portal_gateway.services.accounts import AddressInput


async def current_business(ctx: Context) -> Business | None:
    if not isinstance(ctx.principal, MerchantPrincipal):
        return None
    return await ctx.loaders.business.load(ctx.principal.business_id)


async def customers(
    ctx: Context, business: Business, first: int | None, after: str | None, email: str | None
) -> Page[CustomerAccount] | None:
    """Only the business's own API key lists its customers."""
    principal = ctx.principal
    if not isinstance(principal, MerchantPrincipal) or principal.business_id != business.id:
        return None
    page = PageRequest.parse(first, after)
    return await paginate(ctx.reader, accounts.customers(principal, email), CustomerAccount, page)


async def update_business_settings(
    ctx: Context,
    *,
    allow_subscription_updates: bool | None,
    logo_url: str | None,
    support_email: str | None,
    website_url: str | None,
    address: AddressInput | None = None,
    tax_id: str | None = None,
) -> Business:
    principal = ctx.principal
    assert isinstance(principal, MerchantPrincipal)  # the field's permission ensures it
    return await businesses.update_business_settings(
        ctx.resources.db,
        ctx.actor,
        principal.business_id,
        live=ctx.settings.is_live,
        allow_subscription_updates=allow_subscription_updates,
        logo_url=logo_url,
        support_email=support_email,
        website_url=website_url,
        address=address,
        tax_id=tax_id,
        logos=ctx.resources.logos,
    )
