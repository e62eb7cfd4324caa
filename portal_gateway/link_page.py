"""The page behind a sign-in link.

GET shows "Continue to <business> as <email>" and consumes nothing, so mail
scanners that prefetch links do not burn them. The button POSTs the token
back (Origin checked against this service), which redeems it like signIn,
sets the session cookie and redirects.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portal_gateway.auth.authenticate import set_session_cookie
from portal_gateway.auth.principal import ANONYMOUS
from portal_gateway.core.errors import DomainError
from portal_gateway.models import PortalSession
from portal_gateway.pages import PAGE_HEADERS, page, refused, same_origin
from portal_gateway.resolvers.portal_sessions import redeem as redeem_token
from portal_gateway.resolvers.unit_of_work import in_unit_of_work
from portal_gateway.services import portal_sessions


def _invalid() -> HTMLResponse:
    return page(
        "This link cannot be used",
        "<p>The sign-in link is not valid, has already been used, or has expired. "
        "Ask for a new one.</p>",
        status=404,
    )


async def show(request: Request) -> Response:
    token = request.query_params.get("token", "")
    db = request.app.state.db
    async with db.read_sessions() as session:
        found = await portal_sessions.peek_link(session, token) if token else None
    if found is None:
        return _invalid()
    link, business_name = found
    body = (
        f"<p>Continue to <strong>{escape(business_name)}</strong> as "
        f"<strong>{escape(link.email_normalized)}</strong>?</p>"
        f'<form method="post"><input type="hidden" name="token" value="{escape(token)}">'
        '<button type="submit">Continue</button></form>'
    )
    return page("Sign in to your billing portal", body)


async def redeem(request: Request) -> Response:
    if not same_origin(request):
        return refused()
    form = await request.form()
    token = str(form.get("token", ""))
    settings = request.app.state.settings
    ttl = timedelta(seconds=settings.session_ttl_seconds)

    async def work(session: AsyncSession) -> PortalSession:
        return await redeem_token(
            session, request.app.state.rate_limits, request.state.client_address, token, ttl
        )

    outcome = await in_unit_of_work(
        request.app.state.db,
        ANONYMOUS,
        request.state.client_address,
        "signIn",
        work,
        target_type="PortalSession",
    )
    if isinstance(outcome, DomainError):
        return _invalid()
    if outcome.return_url:
        destination = outcome.return_url
    elif settings.graphiql_enabled:
        destination = "/graphql"
    else:
        destination = "/portal/signed-in"
    response = RedirectResponse(destination, status_code=303, headers=PAGE_HEADERS)
    access_token = request.app.state.tokens.issue(outcome.id, outcome.expires_at)
    set_session_cookie(response, access_token, outcome.expires_at, live=settings.is_live)
    return response


async def signed_in(_: Request) -> Response:
    return page("You are signed in", "<p>You can close this page.</p>")
