"""The page behind a sign-in link.

GET shows "Continue to <business> as <email>" and consumes nothing, so mail
scanners that prefetch links do not burn them. The button POSTs the token
back (Origin checked against this service), which redeems it like signIn,
sets the session cookie and redirects.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portal_gateway.auth.authenticate import set_session_cookie
from portal_gateway.auth.principal import ANONYMOUS
from portal_gateway.core.errors import DomainError
from portal_gateway.services import links, portal_sessions
from portal_gateway.services.unit_of_work import Actor
from portal_gateway.web.graphql import GRAPHQL_PATH
from portal_gateway.web.pages import PAGE_HEADERS, page, refused, same_origin
from portal_gateway.web.state import client_address_of, resources_of

SIGNED_IN_PATH = "/portal/signed-in"


def _invalid() -> HTMLResponse:
    return page(
        "This link cannot be used",
        "<p>The sign-in link is not valid, has already been used, or has expired. "
        "Ask for a new one.</p>",
        status=404,
    )


async def show(request: Request) -> Response:
    token = request.query_params.get("token", "")
    async with resources_of(request).db.read_sessions() as session:
        found = await links.peek_link(session, token) if token else None
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
    token = str((await request.form()).get("token", ""))
    resources = resources_of(request)
    settings = resources.settings
    try:
        signed_in = await portal_sessions.sign_in(
            resources.db,
            resources.rate_limits,
            resources.access_tokens,
            Actor(ANONYMOUS, client_address_of(request)),
            token,
            ttl=timedelta(seconds=settings.session_ttl_seconds),
        )
    except DomainError:
        return _invalid()
    session = signed_in.session
    if session.return_url:
        destination = session.return_url
    elif settings.graphiql_enabled:
        destination = GRAPHQL_PATH  # GraphiQL, signed in
    else:
        destination = SIGNED_IN_PATH
    response = RedirectResponse(destination, status_code=303, headers=PAGE_HEADERS)
    set_session_cookie(response, signed_in.access_token, session.expires_at, live=settings.is_live)
    return response


async def signed_in(_: Request) -> Response:
    return page("You are signed in", "<p>You can close this page.</p>")
