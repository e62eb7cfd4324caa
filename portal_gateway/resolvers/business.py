"""What a merchant's API key reads: its business and its customers."""

from __future__ import annotations

from sqlalchemy import select

from portal_gateway.auth.principal import MerchantPrincipal
from portal_gateway.auth.scope import scoped
from portal_gateway.core.ids import normalize_email
from portal_gateway.loaders.pagination import Page, PageRequest, paginate
from portal_gateway.models import Business, CustomerAccount
from portal_gateway.resolvers.context import Context


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
    stmt = scoped(select(CustomerAccount), CustomerAccount, principal)
    if email is not None:
        stmt = stmt.where(CustomerAccount.email_normalized == normalize_email(email))
    return await paginate(ctx.reader, stmt, CustomerAccount, page)
