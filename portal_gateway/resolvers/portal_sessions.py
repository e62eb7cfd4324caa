"""Portal links and sessions: createPortalSession, signIn, signOut."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.authenticate import SESSION_COOKIE, set_session_cookie
from portal_gateway.auth.principal import MerchantPrincipal, PortalPrincipal
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.auth.sessions import principal_of
from portal_gateway.core.errors import DomainError, RateLimitedError
from portal_gateway.models import PortalSession
from portal_gateway.models.enums import PortalFlowType
from portal_gateway.resolvers.context import Context
from portal_gateway.resolvers.global_ids import input_id
from portal_gateway.resolvers.unit_of_work import run_mutation
from portal_gateway.services import portal_sessions
from portal_gateway.services.portal_sessions import IssuedLink
from portal_gateway.services.sign_in import queue_portal_link_email


@dataclass(frozen=True)
class SignedIn:
    session: PortalSession
    access_token: str
    principal: PortalPrincipal


async def create_portal_session(
    ctx: Context,
    *,
    customer_id: str,
    return_url: str | None,
    send_email: bool,
    expires_in: int | None,
    flow_type: PortalFlowType | None,
    flow_subscription_id: str | None,
) -> IssuedLink | DomainError:
    principal = ctx.principal
    assert isinstance(principal, MerchantPrincipal)  # the field's permission ensures it

    async def work(session: AsyncSession) -> IssuedLink:
        subscription_id = (
            input_id(flow_subscription_id, "Subscription") if flow_subscription_id else None
        )
        issued = await portal_sessions.create_dynamic_link(
            session,
            principal,
            account_id=input_id(customer_id, "CustomerAccount"),
            base_url=ctx.settings.link_base_url,
            live=ctx.settings.is_live,
            return_url=return_url,
            expires_in=expires_in,
            flow_type=flow_type,
            flow_subscription_id=subscription_id,
        )
        if send_email:
            await queue_portal_link_email(session, issued.link)
        return issued

    return await run_mutation(
        ctx, "createPortalSession", work, target_type="CustomerAccount", target_id=customer_id
    )


async def sign_in(ctx: Context, token: str) -> SignedIn | DomainError:
    ttl = timedelta(seconds=ctx.settings.session_ttl_seconds)

    async def work(session: AsyncSession) -> PortalSession:
        return await redeem(session, ctx.rate_limits, ctx.client_address, token, ttl)

    outcome = await run_mutation(ctx, "signIn", work, target_type="PortalSession")
    if isinstance(outcome, DomainError):
        return outcome
    access_token = ctx.access_tokens.issue(outcome.id, outcome.expires_at)
    set_session_cookie(ctx.response, access_token, outcome.expires_at, live=ctx.settings.is_live)
    principal = principal_of(outcome)
    # The rest of this request (the payload's viewer) runs as the new session.
    ctx.principal = principal
    ctx.loaders = type(ctx.loaders)(ctx.reader, principal)
    return SignedIn(outcome, access_token, principal)


async def sign_out(ctx: Context) -> bool:
    principal = ctx.principal
    assert isinstance(principal, PortalPrincipal)

    async def work(session: AsyncSession) -> None:
        await portal_sessions.revoke(session, principal)

    await run_mutation(
        ctx, "signOut", work, target_type="PortalSession", target_id=principal.session_id
    )
    ctx.response.delete_cookie(SESSION_COOKIE, path="/")
    return True


async def redeem(
    session: AsyncSession,
    rate_limits: RateLimits,
    client_address: str | None,
    token: str,
    ttl: timedelta,
) -> PortalSession:
    """signIn's work, for the mutation and the link page: rate-limited per client address."""
    limited = await rate_limits.hit_all(("sign_in:client", client_address))
    if limited is not None:
        raise RateLimitedError(limited.retry_after_seconds)
    return await portal_sessions.redeem_link(session, token, ttl=ttl)
