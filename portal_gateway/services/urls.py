"""Absolute URLs that businesses give us: where a portal session returns to, a logo, a
website. https only in live mode, where a page of ours would otherwise mix in plain http.
They end up in hrefs, in an img src and, for a logo, in a page's Content-Security-Policy,
so a URL is taken only in one plain form: a real host name (an international one in its
punycode form), no user or password, no white space or control characters."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

from portal_gateway.core.errors import InvalidInputError

MAX_URL = 2000
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


def checked_url(url: str, *, field: str, live: bool) -> str:
    """`url` in its plain form if it is an absolute http(s) URL (https in live mode) of at
    most 2,000 characters; InvalidInputError on `field` otherwise."""
    need = "an absolute https URL" if live else "an absolute http(s) URL"
    refusal = InvalidInputError(f"{field} must be {need}.", field=field)
    if len(url) > MAX_URL or not url.isprintable() or any(c.isspace() for c in url):
        raise refusal
    parts = urlsplit(url)
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port
    except (UnicodeError, ValueError):
        raise refusal from None
    allowed = ("https",) if live else ("http", "https")
    if parts.scheme not in allowed or parts.username or parts.password:
        raise refusal
    if not _HOST.fullmatch(host):
        raise refusal
    netloc = f"{host}:{port}" if port else host
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=?-._~")
    fragment = quote(parts.fragment, safe="/%:@!$&'()*+,;=?-._~")
    plain = urlunsplit((parts.scheme, netloc, path, query, fragment))
    if len(plain) > MAX_URL:
        raise refusal
    return plain


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL that checked_url took (for a CSP source)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
