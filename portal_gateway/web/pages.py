"""The few HTML pages this service serves itself: one shell, strict headers, same-origin POSTs."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse

from portal_gateway.web.state import resources_of

PAGE_HEADERS = {
    # same-origin: no Referer (with its token) to other sites, while our own form POSTs keep
    # their Origin; under no-referrer a browser sends `Origin: null` and every POST is refused.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}

_SHELL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}}
button,input{{font-size:1rem;padding:.6rem}} .error{{color:#b00020}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A page; `body` is HTML the caller has escaped."""
    return HTMLResponse(
        _SHELL.format(title=escape(title), body=body), status_code=status, headers=PAGE_HEADERS
    )


def same_origin(request: Request) -> bool:
    """A form POST from one of this service's own pages, as a browser proves it (the CSRF
    check for cookie sign-in): Fetch Metadata where the browser sends it, and only
    `same-origin` passes (`same-site` is another port or subdomain); else the Origin header,
    which must be this service's public origin. `Origin: null` (an opaque or privacy-reduced
    origin) and a POST with neither header are refused."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return False
    own = urlsplit(resources_of(request).settings.public_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (own.scheme, own.netloc)


def refused() -> HTMLResponse:
    return page("Request refused", "<p>Use the form on this service's page.</p>", status=403)
