"""The HTML pages this service serves itself: Jinja2 templates in the visitor's language,
branded with the business they belong to, under strict headers; and the same-origin check
of their form POSTs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse

from portal_gateway import i18n
from portal_gateway.config import Settings
from portal_gateway.models import Business
from portal_gateway.services.links import SIGN_IN_PATH, static_portal_key
from portal_gateway.services.urls import origin_of
from portal_gateway.web.state import resources_of


@dataclass(frozen=True)
class Brand:
    """What a page shows of the business it belongs to."""

    business_id: str
    name: str
    logo_url: str | None
    support_email: str | None
    website_url: str | None
    # This business's sign-in form (its static link): where a dead end leads.
    sign_in_path: str

    @classmethod
    def of(cls, business: Business, settings: Settings) -> Brand:
        key = static_portal_key(business.id, live=settings.is_live)
        return cls(
            business_id=business.id,
            name=business.name,
            logo_url=business.logo_url,
            support_email=business.support_email,
            website_url=business.website_url,
            sign_in_path=f"{SIGN_IN_PATH}/{key}",
        )


def headers(*, image_origin: str | None = None) -> dict[str, str]:
    """Every page's headers. Referrer-Policy same-origin: no Referer (with a link's token) to
    other sites, while our own form POSTs keep their Origin; under no-referrer a browser sends
    `Origin: null` and every POST would be refused."""
    images = f" img-src {image_origin};" if image_origin else ""
    return {
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'unsafe-inline';{images} form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'"
        ),
    }


@cache
def _templates(locale: str) -> Environment:
    return i18n.environment(PackageLoader("portal_gateway.web", "templates"), locale)


def page_locale(request: Request) -> str:
    """Before sign-in a page speaks what the browser asks for (Accept-Language), never the
    locale of a matched account, which would tell whether an email is a customer."""
    return i18n.negotiate(request.headers.get("accept-language"))


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    brand: Brand | None = None,
    locale: str | None = None,
    **context: Any,
) -> HTMLResponse:
    locale = locale or page_locale(request)
    html = _templates(locale).get_template(template).render(brand=brand, **context)
    image_origin = origin_of(brand.logo_url) if brand and brand.logo_url else None
    return HTMLResponse(
        html,
        status_code=status,
        headers={**headers(image_origin=image_origin), "Content-Language": locale},
    )


def same_origin(request: Request) -> bool:
    """A form POST from one of this service's own pages, as a browser proves it (the CSRF
    check for cookie sign-in). Fetch Metadata where the browser sends it, and only
    `same-origin` passes (`same-site` is another port or subdomain); an Origin header, when
    there is one, must be this service's public origin too. `Origin: null` (an opaque or
    privacy-reduced origin) and a POST with neither header are refused."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return site == "same-origin"
    own = _origin(resources_of(request).settings.public_url)
    return own is not None and _origin(origin) == own


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) as browsers compare origins: case-folded, the host in punycode,
    the default port explicit; None for what is no origin (`null`, garbage)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii").lower()
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except (UnicodeError, ValueError):
        return None
    if not host or port is None:
        return None
    return scheme, host, port


def refused(request: Request, form_path: str, brand: Brand | None = None) -> HTMLResponse:
    return page(request, "refused.html", status=403, brand=brand, form_path=form_path)
