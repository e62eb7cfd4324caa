"""Absolute URLs that businesses give us: where a portal session returns to, a logo, a
website. https only in live mode, where a page of ours would otherwise mix in plain http."""

from __future__ import annotations

from urllib.parse import urlsplit

from portal_gateway.core.errors import InvalidInputError

MAX_URL = 2000


def checked_url(url: str, *, field: str, live: bool) -> str:
    """`url` if it is absolute, http(s) (https in live mode) and at most 2,000 characters;
    InvalidInputError on `field` otherwise."""
    parts = urlsplit(url)
    allowed = ("https",) if live else ("http", "https")
    if parts.scheme not in allowed or not parts.netloc or len(url) > MAX_URL or " " in url:
        need = "an absolute https URL" if live else "an absolute http(s) URL"
        raise InvalidInputError(f"{field} must be {need}.", field=field)
    return url
