"""Sign-in pages: the unified portal's (/portal/login) and each business's static link
(/portal/login/<key>). Each asks for an email and requests a link exactly as the
requestSignInLink mutation does (same rate limits, same answer for everyone)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal_gateway.auth.principal import ANONYMOUS
from portal_gateway.core.errors import InvalidInputError, RateLimitedError
from portal_gateway.queries.businesses import business_by_id
from portal_gateway.services import sign_in
from portal_gateway.services.links import SIGN_IN_PATH, business_of_static_key
from portal_gateway.services.unit_of_work import Actor
from portal_gateway.web.pages import Brand, page, refused, same_origin
from portal_gateway.web.state import client_address_of, resources_of


async def _page_brand(request: Request) -> tuple[bool, Brand | None]:
    """(whether the page exists, the brand of its business: None on the unified page). A
    static link of the other mode, or of no business, names no page."""
    key = request.path_params.get("key")
    if key is None:
        return True, None
    resources = resources_of(request)
    business_id = business_of_static_key(key, live=resources.settings.is_live)
    if business_id is None:
        return False, None
    async with resources.db.read_sessions() as session:
        business = await business_by_id(session, business_id)
    if business is None:
        return False, None
    return True, Brand.of(business, resources.settings)


def _not_found(request: Request) -> Response:
    return page(request, "not_found.html", status=404, form_path=SIGN_IN_PATH)


async def show(request: Request) -> Response:
    exists, brand = await _page_brand(request)
    if not exists:
        return _not_found(request)
    return page(request, "sign_in.html", brand=brand, email="", error=None)


async def submit(request: Request) -> Response:
    exists, brand = await _page_brand(request)
    if not exists:
        return _not_found(request)
    form_path = brand.sign_in_path if brand else SIGN_IN_PATH
    if not same_origin(request):
        return refused(request, form_path, brand)
    email = str((await request.form()).get("email", ""))
    resources = resources_of(request)
    try:
        await sign_in.request_sign_in_link(
            resources.db,
            resources.rate_limits,
            Actor(ANONYMOUS, client_address_of(request)),
            email=email,
            business_id=brand.business_id if brand else None,
            customer_id_secret=resources.settings.secret_key.get_secret_value().encode(),
        )
    except InvalidInputError:
        error = "invalid_email"  # the one input of this form
        return page(request, "sign_in.html", status=400, brand=brand, email=email, error=error)
    except RateLimitedError as error:
        return page(
            request, "rate_limited.html", status=429, brand=brand, form_path=form_path,
            minutes=max(1, error.retry_after_seconds // 60),
        )  # fmt: skip
    return page(request, "check_email.html", brand=brand, email=email.strip(), form_path=form_path)
