"""Sign-in pages: the unified portal's (/portal/login) and each business's static link
(/portal/login/<key>). Each asks for an email and requests a link exactly as the
requestSignInLink mutation does (same rate limits, same answer for everyone)."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response

from portal_gateway.auth.principal import ANONYMOUS
from portal_gateway.core.errors import InvalidInputError, RateLimitedError
from portal_gateway.queries.businesses import business_name
from portal_gateway.services import sign_in
from portal_gateway.services.links import business_of_static_key
from portal_gateway.services.unit_of_work import Actor
from portal_gateway.web.pages import page, refused, same_origin
from portal_gateway.web.state import client_address_of, resources_of


async def _business_name(request: Request) -> tuple[str | None, str | None] | None:
    """(business id, name) of the static link in the path; (None, None) for the unified page;
    None when the path names no business of this mode."""
    key = request.path_params.get("key")
    if key is None:
        return None, None
    resources = resources_of(request)
    business_id = business_of_static_key(key, live=resources.settings.is_live)
    if business_id is None:
        return None
    async with resources.db.read_sessions() as session:
        name = await business_name(session, business_id)
    return (business_id, name) if name is not None else None


def _form(title_target: str, error: str = "", email: str = "") -> str:
    message = f'<p class="error">{escape(error)}</p>' if error else ""
    return (
        f"<p>Enter the email address you used at {title_target}. "
        "We will send you a link to sign in.</p>"
        f'{message}<form method="post"><input type="email" name="email" required '
        f'autocomplete="email" value="{escape(email)}" aria-label="Email"> '
        '<button type="submit">Email me a link</button></form>'
    )


def _title(name: str | None) -> tuple[str, str]:
    if name is None:
        return "Your purchases", "any business on the platform"
    return f"{name}: billing portal", escape(name)


async def show(request: Request) -> Response:
    found = await _business_name(request)
    if found is None:
        return page("Not found", "<p>This sign-in page does not exist.</p>", status=404)
    title, target = _title(found[1])
    return page(title, _form(target))


async def submit(request: Request) -> Response:
    if not same_origin(request):
        return refused()
    found = await _business_name(request)
    if found is None:
        return page("Not found", "<p>This sign-in page does not exist.</p>", status=404)
    business_id, name = found
    title, target = _title(name)
    email = str((await request.form()).get("email", ""))
    resources = resources_of(request)
    try:
        await sign_in.request_sign_in_link(
            resources.db,
            resources.rate_limits,
            Actor(ANONYMOUS, client_address_of(request)),
            email=email,
            business_id=business_id,
        )
    except InvalidInputError as error:
        return page(title, _form(target, error.message, email), status=400)
    except RateLimitedError as error:
        minutes = max(1, error.retry_after_seconds // 60)
        body = f"<p>Too many requests. Try again in about {minutes} minutes.</p>"
        return page(title, body, status=429)
    return page(
        "Check your email",
        f"<p>If <strong>{escape(email.strip())}</strong> belongs to a customer of {target}, "
        "a sign-in link is on its way. It works once, for 24 hours.</p>",
    )
