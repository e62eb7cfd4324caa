"""Sign-in links: minted, shown, redeemed into a portal session, and the URLs they live at.

A link token is 256 random bits, stored only as a SHA-256 hash, valid 24 h at
most and redeemed by one conditional UPDATE, so two concurrent redemptions
cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import MerchantPrincipal
from portal_gateway.core import clock
from portal_gateway.core.errors import InvalidInputError, InvalidTokenError
from portal_gateway.core.ids import is_row_id, random_token, token_hash
from portal_gateway.models import Business, CustomerAccount, LinkToken, PortalSession, Subscription
from portal_gateway.models.enums import LinkKind, PortalFlowType, PortalScope
from portal_gateway.queries.accounts import account_in_scope
from portal_gateway.services.urls import checked_url

MAX_LINK_LIFETIME = timedelta(hours=24)
MIN_LINK_SECONDS = 60
# Where the pages that links lead to are served (web/ routes them; links are built here).
LINK_PATH = "/portal/link"
SIGN_IN_PATH = "/portal/login"


def link_url(base_url: str, token: str) -> str:
    return f"{base_url}{LINK_PATH}?{urlencode({'token': token})}"


def static_portal_key(business_id: str, *, live: bool) -> str:
    """The business part of a static link; test-mode links say so and do not open in live."""
    return business_id if live else f"test_{business_id}"


def business_of_static_key(key: str, *, live: bool) -> str | None:
    if live:
        business_id = None if key.startswith("test_") else key
    else:
        business_id = key.removeprefix("test_") if key.startswith("test_") else None
    return business_id if business_id is not None and is_row_id(business_id) else None


def static_portal_url(base_url: str, business_id: str, *, live: bool) -> str:
    """The never-expiring link where a customer asks for a sign-in link to one business."""
    return f"{base_url}{SIGN_IN_PATH}/{static_portal_key(business_id, live=live)}"


@dataclass(frozen=True)
class IssuedLink:
    url: str
    token: str
    expires_at: datetime
    link: LinkToken


async def create_dynamic_link(
    session: AsyncSession,
    principal: MerchantPrincipal,
    *,
    account_id: str,
    base_url: str,
    live: bool,
    return_url: str | None = None,
    expires_in: int | None = None,
    flow_type: PortalFlowType | None = None,
    flow_subscription_id: str | None = None,
) -> IssuedLink:
    """A one-time link into the business's portal for one of its customers (BUSINESS scope).

    A business can create customers with any email, so this never proves the
    email: the session it opens sees this one account, never UNIFIED.
    """
    account = await account_in_scope(session, principal, account_id, missing="No such customer.")
    seconds = int(MAX_LINK_LIFETIME.total_seconds()) if expires_in is None else expires_in
    if not MIN_LINK_SECONDS <= seconds <= MAX_LINK_LIFETIME.total_seconds():
        raise InvalidInputError("expiresIn must be between 60 and 86400 seconds.", "expiresIn")
    if return_url is not None:
        checked_url(return_url, field="returnUrl", live=live)
    if flow_type is not None:
        owner = await session.scalar(
            select(Subscription.account_id).where(Subscription.id == flow_subscription_id)
        )
        if owner != account.id:
            raise InvalidInputError(
                "The flow's subscription is not one of this customer's.", "flow.subscriptionId"
            )
    return await mint_link(
        session,
        base_url=base_url,
        kind=LinkKind.DYNAMIC,
        account=account,
        expires_at=clock.now() + timedelta(seconds=seconds),
        flow_type=flow_type,
        flow_subscription_id=flow_subscription_id if flow_type else None,
        return_url=return_url,
    )


async def mint_link(
    session: AsyncSession,
    *,
    base_url: str,
    kind: LinkKind,
    email_normalized: str | None = None,
    account: CustomerAccount | None = None,
    expires_at: datetime,
    flow_type: PortalFlowType | None = None,
    flow_subscription_id: str | None = None,
    return_url: str | None = None,
) -> IssuedLink:
    """A new single-use link. With an account it opens that account only (BUSINESS scope);
    without, every account of the email (UNIFIED), which only an emailed link may do."""
    if account is None and kind is not LinkKind.EMAILED_UNIFIED:
        raise ValueError("only a link emailed to the address may open a unified session")
    token = random_token()
    link = LinkToken(
        token_hash=token_hash(token),
        kind=kind,
        scope=PortalScope.BUSINESS if account is not None else PortalScope.UNIFIED,
        business_id=account.business_id if account is not None else None,
        account_id=account.id if account is not None else None,
        email_normalized=account.email_normalized if account is not None else email_normalized,
        flow_type=flow_type,
        flow_subscription_id=flow_subscription_id,
        return_url=return_url,
        expires_at=expires_at,
    )
    session.add(link)
    await session.flush()
    return IssuedLink(link_url(base_url, token), token, expires_at, link)


LinkState = Literal["valid", "used", "expired", "unknown"]


@dataclass(frozen=True)
class LinkView:
    """What the page behind a link shows; looking consumes nothing (mail scanners look)."""

    state: LinkState
    link: LinkToken | None
    # The business a BUSINESS link opens, for its name and branding; None for a unified one.
    business: Business | None


async def inspect_link(session: AsyncSession, token: str) -> LinkView:
    row = (
        await session.execute(
            select(LinkToken, Business)
            .outerjoin(Business, Business.id == LinkToken.business_id)
            .where(LinkToken.token_hash == token_hash(token))
        )
        if token
        else None
    )
    found = row.first() if row is not None else None
    if found is None:
        return LinkView("unknown", None, None)
    link, business = found
    if link.used_at is not None:
        state: LinkState = "used"
    elif link.expires_at <= clock.now():
        state = "expired"
    else:
        state = "valid"
    return LinkView(state, link, business)


async def redeem_link(session: AsyncSession, token: str, *, ttl: timedelta) -> PortalSession:
    """Consume a link token and open a portal session with the scope the link carries."""
    now = clock.now()
    hashed = token_hash(token)
    link_id = await session.scalar(
        update(LinkToken)
        .where(
            LinkToken.token_hash == hashed,
            LinkToken.used_at.is_(None),
            LinkToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(LinkToken.id)
    )
    if link_id is None:
        raise await _why_unredeemable(session, hashed, now)
    link = await session.get_one(LinkToken, link_id)
    portal_session = PortalSession(
        scope=link.scope,
        business_id=link.business_id,
        account_id=link.account_id,
        email_normalized=link.email_normalized,
        link_token_id=link.id,
        flow_type=link.flow_type,
        flow_subscription_id=link.flow_subscription_id,
        return_url=link.return_url,
        expires_at=now + ttl,
    )
    session.add(portal_session)
    await session.flush()
    return portal_session


async def _why_unredeemable(session: AsyncSession, hashed: str, now: datetime) -> InvalidTokenError:
    link = await session.scalar(select(LinkToken).where(LinkToken.token_hash == hashed))
    if link is None:
        return InvalidTokenError("TOKEN_INVALID", "This sign-in link is not valid.")
    if link.used_at is not None:
        return InvalidTokenError("TOKEN_USED", "This sign-in link has already been used.")
    return InvalidTokenError("TOKEN_EXPIRED", "This sign-in link has expired.")
