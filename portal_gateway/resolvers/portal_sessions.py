"""Signing in and out, and the links that lead there: requestSignInLink, signIn, signOut,
createPortalSession."""

from __future__ import annotations

from datetime import timedelta

from portal_gateway.auth.authenticate import SESSION_COOKIE, set_session_cookie
from portal_gateway.auth.principal import MerchantPrincipal
from portal_gateway.core.ids import local_id
from portal_gateway.models.enums import PortalFlowType
from portal_gateway.resolvers.context import Context
from portal_gateway.resolvers.global_ids import input_id
from portal_gateway.services import portal_sessions
from portal_gateway.services import sign_in as sign_in_requests
from portal_gateway.services.links import IssuedLink
from portal_gateway.services.portal_sessions import SignedIn


async def request_sign_in_link(ctx: Context, *, email: str, business_id: str | None) -> None:
    resources = ctx.resources
    await sign_in_requests.request_sign_in_link(
        resources.db,
        resources.rate_limits,
        ctx.actor,
        email=email,
        business_id=local_id(business_id, "Business") if business_id is not None else None,
        customer_id_secret=ctx.settings.secret_key.get_secret_value().encode(),
    )


async def sign_in(ctx: Context, token: str) -> SignedIn:
    """signIn: the session's token as a bearer token and as the browser's cookie; the rest
    of the request (the payload's viewer) runs as the new session."""
    resources = ctx.resources
    signed_in = await portal_sessions.sign_in(
        resources.db,
        resources.rate_limits,
        resources.access_tokens,
        ctx.actor,
        token,
        ttl=timedelta(seconds=ctx.settings.session_ttl_seconds),
    )
    session = signed_in.session
    set_session_cookie(
        ctx.response, signed_in.access_token, session.expires_at, live=ctx.settings.is_live
    )
    ctx.act_as(signed_in.principal)
    return signed_in


async def sign_out(ctx: Context) -> None:
    await portal_sessions.sign_out(ctx.resources.db, ctx.actor)
    ctx.response.delete_cookie(SESSION_COOKIE, path="/")


async def create_portal_session(
    ctx: Context,
    *,
    customer_id: str,
    return_url: str | None,
    send_email: bool,
    expires_in: int | None,
    flow_type: PortalFlowType | None,
    flow_subscription_id: str | None,
) -> IssuedLink:
    assert isinstance(ctx.principal, MerchantPrincipal)  # the field's permission ensures it
    settings = ctx.settings
    return await portal_sessions.create_portal_session(
        ctx.resources.db,
        ctx.actor,
        account_id=input_id(customer_id, "CustomerAccount"),
        base_url=settings.link_base_url,
        live=settings.is_live,
        return_url=return_url,
        expires_in=expires_in,
        flow_type=flow_type,
        flow_subscription_id=(
            input_id(flow_subscription_id, "Subscription") if flow_subscription_id else None
        ),
        send_email=send_email,
    )
