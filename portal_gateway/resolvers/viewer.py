"""The signed-in customer and their lists, across the accounts in the session's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from portal_gateway.auth.principal import PortalPrincipal
from portal_gateway.auth.scope import scoped
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
    accounts = await ctx.reader.scalars(
        scoped(select(CustomerAccount), CustomerAccount, principal).order_by(
            CustomerAccount.updated_at.desc(), CustomerAccount.id
        )
    )
    if not accounts:
        return None
    for account in accounts:
        ctx.loaders.account.prime(account.id, account)
    return Viewer(
        principal, accounts, customer_id(principal.email_normalized, ctx.customer_id_secret)
    )


async def businesses(ctx: Context, viewer: Viewer) -> list[Business]:
    ids = list(dict.fromkeys(account.business_id for account in viewer.accounts))
    found = await ctx.loaders.business.load_many(ids)
    return sorted((b for b in found if b is not None), key=lambda b: (b.name, b.id))


def _listing(ctx: Context, model: Any, business_id: str | None) -> Select[Any]:
    stmt = scoped(select(model), model, ctx.principal)
    business = filter_id(business_id, "Business", "businessId")
    return stmt.where(model.business_id == business) if business else stmt


async def purchases(
    ctx: Context, first: int | None, after: str | None, business_id: str | None
) -> Page[Purchase]:
    page = PageRequest.parse(first, after)
    return await paginate(ctx.reader, _listing(ctx, Purchase, business_id), Purchase, page)


async def subscriptions(
    ctx: Context,
    first: int | None,
    after: str | None,
    business_id: str | None,
    status: list[SubscriptionStatus] | None,
) -> Page[Subscription]:
    page = PageRequest.parse(first, after)
    stmt = _listing(ctx, Subscription, business_id)
    if status:
        stmt = stmt.where(Subscription.status.in_(status))
    return await paginate(ctx.reader, stmt, Subscription, page)


async def invoices(
    ctx: Context, first: int | None, after: str | None, business_id: str | None
) -> Page[Invoice]:
    page = PageRequest.parse(first, after)
    return await paginate(ctx.reader, _listing(ctx, Invoice, business_id), Invoice, page)


async def payments(
    ctx: Context, first: int | None, after: str | None, business_id: str | None
) -> Page[Payment]:
    page = PageRequest.parse(first, after)
    return await paginate(ctx.reader, _listing(ctx, Payment, business_id), Payment, page)


async def license_keys(
    ctx: Context, first: int | None, after: str | None, business_id: str | None
) -> Page[LicenseKey]:
    page = PageRequest.parse(first, after)
    return await paginate(ctx.reader, _listing(ctx, LicenseKey, business_id), LicenseKey, page)


async def payment_methods(ctx: Context, business_id: str | None) -> Sequence[PaymentMethod]:
    stmt = _listing(ctx, PaymentMethod, business_id).where(PaymentMethod.detached_at.is_(None))
    return await ctx.reader.scalars(
        stmt.order_by(PaymentMethod.created_at.desc(), PaymentMethod.id.desc())
    )
