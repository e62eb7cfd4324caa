"""The page behind a sign-in link.

GET shows "Continue to <business> as <email>" and consumes nothing, so mail
scanners that prefetch links do not burn them. The button POSTs the token back
(same-origin as a browser proves it), which redeems it like signIn, sets the
session cookie and redirects. A used, expired or unknown link gets a page that
says which, and leads to a form for a new one.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portal_gateway import i18n
from portal_gateway.auth.authenticate import SESSION_COOKIE, authenticate, set_session_cookie
from portal_gateway.auth.principal import ANONYMOUS, PortalPrincipal
from portal_gateway.core.errors import InvalidTokenError, RateLimitedError
from portal_gateway.queries.accounts import viewer_accounts
from portal_gateway.queries.businesses import business_by_id
from portal_gateway.services import links, portal_sessions
from portal_gateway.services.links import SIGN_IN_PATH, LinkState, LinkView
from portal_gateway.services.unit_of_work import Actor
from portal_gateway.web.graphql import GRAPHQL_PATH
from portal_gateway.web.pages import Brand, headers, page, refused, same_origin
from portal_gateway.web.state import client_address_of, resources_of

SIGNED_IN_PATH = "/portal/signed-in"


async def _view(request: Request, token: str) -> tuple[LinkView, Brand | None]:
    resources = resources_of(request)
    async with resources.db.read_sessions() as session:
        view = await links.inspect_link(session, token)
    brand = Brand.of(view.business, resources.settings) if view.business else None
    return view, brand


def _dead_end(request: Request, state: LinkState, brand: Brand | None) -> HTMLResponse:
    new_link = brand.sign_in_path if brand else SIGN_IN_PATH
    return page(
        request, "link_invalid.html", status=404, brand=brand, state=state,
        new_link_path=new_link,
    )  # fmt: skip


async def show(request: Request) -> Response:
    token = request.query_params.get("token", "")
    view, brand = await _view(request, token)
    if view.state != "valid" or view.link is None:
        return _dead_end(request, view.state, brand)
    return page(request, "link.html", brand=brand, email=view.link.email_normalized, token=token)


async def redeem(request: Request) -> Response:
    token = str((await request.form()).get("token", ""))
    if not same_origin(request):
        _, brand = await _view(request, token)
        return refused(request, brand.sign_in_path if brand else SIGN_IN_PATH, brand)
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
    except RateLimitedError as error:
        _, brand = await _view(request, token)
        return page(
            request, "rate_limited.html", status=429, brand=brand,
            minutes=max(1, error.retry_after_seconds // 60),
            form_path=brand.sign_in_path if brand else SIGN_IN_PATH,
        )  # fmt: skip
    except InvalidTokenError:
        view, brand = await _view(request, token)
        return _dead_end(request, view.state, brand)
    session = signed_in.session
    # Never straight to returnUrl: like Stripe's return_url it is the portal's way back, which
    # the signed-in page (or a front end, from signIn) offers. Test mode opens GraphiQL.
    destination = GRAPHQL_PATH if settings.graphiql_enabled else SIGNED_IN_PATH
    response = RedirectResponse(destination, status_code=303, headers=headers())
    set_session_cookie(response, signed_in.access_token, session.expires_at, live=settings.is_live)
    return response


async def signed_in(request: Request) -> Response:
    """Where a link ends without GraphiQL: in the account's language, with the business's
    returnUrl as the way back."""
    resources = resources_of(request)
    principal = await authenticate(
        resources.db.read_sessions,
        resources.access_tokens,
        resources.settings.mode,
        bearer=None,
        cookie=request.cookies.get(SESSION_COOKIE),
    )
    if not isinstance(principal, PortalPrincipal):
        ended = RedirectResponse(SIGN_IN_PATH, status_code=303, headers=headers())
        ended.delete_cookie(SESSION_COOKIE, path="/")  # a stale session's, if any
        return ended
    async with resources.db.read_sessions() as session:
        account = await session.scalar(viewer_accounts(principal).limit(1))
        business = (
            await business_by_id(session, principal.business_id) if principal.business_id else None
        )
    return page(
        request,
        "signed_in.html",
        locale=i18n.supported(account.locale) if account else None,
        brand=Brand.of(business, resources.settings) if business else None,
        return_url=principal.return_url,
    )
