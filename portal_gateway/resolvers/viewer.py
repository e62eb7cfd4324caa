"""The signed-in customer and their lists, across the accounts in the session's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portal_gateway.auth.principal import PortalPrincipal
from portal_gateway.core.ids import customer_id
from portal_gateway.loaders.pagination import Page, PageRequest, paginate
from portal_gateway.models import (
    Business,
    CustomerAccount,
    Invoice,
    LicenseKey,
    Payment,
    PaymentMethod,
    Purchase,
    Subscription,
)
from portal_gateway.models.enums import SubscriptionStatus
from portal_gateway.queries.accounts import viewer_accounts
from portal_gateway.queries.businesses import listing_order
from portal_gateway.queries.payments import saved_cards
from portal_gateway.queries.readable import readable
from portal_gateway.queries.subscriptions import readable_subscriptions
from portal_gateway.resolvers.context import Context
from portal_gateway.resolvers.global_ids import filter_id


@dataclass(frozen=True)
class Viewer:
    principal: PortalPrincipal
    # Newest update first: the person's name and phone come from the first.
    accounts: Sequence[CustomerAccount]
    id: str


async def viewer(ctx: Context) -> Viewer | None:
    principal = ctx.principal
    if not isinstance(principal, PortalPrincipal):
        return None
    accounts = await ctx.reader.scalars(viewer_accounts(principal))
    if not accounts:
        return None
    for account in accounts:
        ctx.loaders.account.prime(account.id, account)
    secret = ctx.settings.secret_key.get_secret_value().encode()
    return Viewer(principal, accounts, customer_id(principal.email_normalized, secret))


async def businesses(ctx: Context, viewer: Viewer) -> list[Business]:
    ids = list(dict.fromkeys(account.business_id for account in viewer.accounts))
    found = await ctx.loaders.business.load_many(ids)
    return sorted((b for b in found if b is not None), key=lambda b: listing_order(b.name, b.id))


def _business(business_id: str | None) -> str | None:
    return filter_id(business_id, "Business", "businessId")


async def purchases(
    ctx: Context, first: int | None, after: str | None, business_id: str | None
) -> Page[Purchase]:
    page = PageRequest.parse(first, after)
    rows = readable(Purchase, ctx.principal, business_id=_business(business_id))
    return await paginate(ctx.reader, rows, Purchase, page)


async def subscriptions(
    ctx: Context,
    first: int | None,
    after: str | None,
    business_id: str | None,
    status: list[SubscriptionStatus] | None,
) -> Page[Subscription]:
    page = PageRequest.parse(first, after)
    rows = readable_subscriptions(
        ctx.principal, business_id=_business(business_id), statuses=status
    )
    return await paginate(ctx.reader, rows, Subscription, page)


async def invoices(
    ctx: Context, first: int | None, after: str | None, business_id: str | None
) -> Page[Invoice]:
    page = PageRequest.parse(first, after)
    rows = readable(Invoice, ctx.principal, business_id=_business(business_id))
    return await paginate(ctx.reader, rows, Invoice, page)


async def payments(
    ctx: Context, first: int | None, after: str | None, business_id: str | None
) -> Page[Payment]:
    page = PageRequest.parse(first, after)
    rows = readable(Payment, ctx.principal, business_id=_business(business_id))
    return await paginate(ctx.reader, rows, Payment, page)


async def license_keys(
    ctx: Context, first: int | None, after: str | None, business_id: str | None
) -> Page[LicenseKey]:
    page = PageRequest.parse(first, after)
    rows = readable(LicenseKey, ctx.principal, business_id=_business(business_id))
    return await paginate(ctx.reader, rows, LicenseKey, page)


async def payment_methods(ctx: Context, business_id: str | None) -> Sequence[PaymentMethod]:
    return await ctx.reader.scalars(saved_cards(ctx.principal, business_id=_business(business_id)))
