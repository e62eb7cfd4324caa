"""Portal sessions: the dynamic link a business makes for one of its customers, the sign-in
that redeems any link into a session (and its access token), and signing out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.access_tokens import AccessTokens
from portal_gateway.auth.principal import MerchantPrincipal, PortalPrincipal
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.auth.sessions import principal_of
from portal_gateway.core import clock
from portal_gateway.core.errors import RateLimitedError
from portal_gateway.core.ids import require_id
from portal_gateway.db import Database
from portal_gateway.models import PortalSession
from portal_gateway.models.enums import PortalFlowType
from portal_gateway.services.links import IssuedLink, create_dynamic_link, redeem_link
from portal_gateway.services.sign_in import queue_portal_link_email
from portal_gateway.services.unit_of_work import Actor, in_unit_of_work


@dataclass(frozen=True)
class SignedIn:
    session: PortalSession
    access_token: str
    principal: PortalPrincipal


async def create_portal_session(
    db: Database,
    actor: Actor,
    *,
    account_id: str,
    base_url: str,
    live: bool,
    return_url: str | None,
    expires_in: int | None,
    flow_type: PortalFlowType | None,
    flow_subscription_id: str | None,
    send_email: bool,
) -> IssuedLink:
    """createPortalSession: a one-time link into the calling business's portal for one of
    its customers, also emailed to them (a link of their own) with `send_email`."""
    principal = actor.principal
    assert isinstance(principal, MerchantPrincipal)  # only a merchant's key may ask

    async def work(session: AsyncSession) -> IssuedLink:
        if flow_subscription_id is not None:
            require_id(flow_subscription_id, "Subscription")
        require_id(account_id, "CustomerAccount")
        issued = await create_dynamic_link(
            session,
            principal,
            account_id=account_id,
            base_url=base_url,
            live=live,
            return_url=return_url,
            expires_in=expires_in,
            flow_type=flow_type,
            flow_subscription_id=flow_subscription_id,
        )
        if send_email:
            await queue_portal_link_email(session, issued.link)
        return issued

    return await in_unit_of_work(
        db, actor, "createPortalSession", work, target_type="CustomerAccount", target_id=account_id
    )


async def sign_in(
    db: Database,
    rate_limits: RateLimits,
    access_tokens: AccessTokens,
    actor: Actor,
    token: str,
    *,
    ttl: timedelta,
) -> SignedIn:
    """signIn (the mutation and the link page's button): redeem a link's token, once, into a
    portal session of the scope the link carries; rate-limited per client address."""

    async def work(session: AsyncSession) -> PortalSession:
        limited = await rate_limits.hit_all(("sign_in:client", actor.client_address))
        if limited is not None:
            raise RateLimitedError(limited.retry_after_seconds)
        return await redeem_link(session, token, ttl=ttl)

    opened = await in_unit_of_work(
        db, actor, "signIn", work, target_type="PortalSession",
        recorded_as=lambda opened: (principal_of(opened), opened.id),
    )  # fmt: skip
    access_token = access_tokens.issue(opened.id, opened.expires_at)
    return SignedIn(opened, access_token, principal_of(opened))


async def sign_out(db: Database, actor: Actor) -> None:
    """signOut: the session ends now; its access token stops working at once."""
    principal = actor.principal
    assert isinstance(principal, PortalPrincipal)  # only a portal session may sign out

    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(PortalSession)
            .where(PortalSession.id == principal.session_id, PortalSession.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )

    await in_unit_of_work(
        db, actor, "signOut", work, target_type="PortalSession", target_id=principal.session_id
    )
