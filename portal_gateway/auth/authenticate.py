"""From an HTTP request's credentials to a principal, once per request."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import Response

from portal_gateway.auth.access_tokens import AccessTokens
from portal_gateway.auth.api_keys import authenticate_api_key, is_api_key
from portal_gateway.auth.principal import ANONYMOUS, PortalPrincipal, Principal
from portal_gateway.auth.sessions import load_principal, load_principal_raw
from portal_gateway.core import clock
from portal_gateway.core.errors import AccessError
from portal_gateway.models.enums import ApiKeyMode

SESSION_COOKIE = "portal_session"


def bearer_credential(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if value is None:
        return None
    scheme, _, credential = value.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise AccessError("UNAUTHENTICATED", "Authorization must be 'Bearer <token>'.")
    return credential.strip()


async def authenticate(
    sessions: async_sessionmaker[AsyncSession],
    tokens: AccessTokens,
    mode: ApiKeyMode,
    *,
    bearer: str | None,
    cookie: str | None,
    raw_reads: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]] | None = None,
) -> Principal:
    """The caller. A bad bearer credential is refused (UNAUTHENTICATED); a bad cookie is
    a browser with a stale session and reads as anonymous (the caller drops the cookie).
    With `raw_reads` (PostgreSQL), a bearer session is checked on a raw connection: the
    same statement, without an ORM session, for the check every API request makes."""
    if bearer is None and cookie is None:
        return ANONYMOUS
    if raw_reads is not None and bearer is not None and not is_api_key(bearer):
        session_id = tokens.verify(bearer)
        async with raw_reads() as connection:
            return _live(await load_principal_raw(connection, session_id))
    async with sessions() as session:
        if bearer is not None:
            if is_api_key(bearer):
                return await authenticate_api_key(session, bearer, mode)
            return await _session_principal(session, tokens, bearer)
        assert cookie is not None
        try:
            return await _session_principal(session, tokens, cookie)
        except AccessError:
            return ANONYMOUS


async def _session_principal(session: AsyncSession, tokens: AccessTokens, token: str) -> Principal:
    return _live(await load_principal(session, tokens.verify(token)))


def _live(principal: PortalPrincipal | None) -> PortalPrincipal:
    if principal is None:
        raise AccessError("UNAUTHENTICATED", "This session has ended; sign in again.")
    return principal


def client_address(peer: str | None, forwarded_for: str | None, trusted: list[str]) -> str | None:
    """The peer, or the forwarded client when the peer is a trusted proxy: the rightmost
    address in X-Forwarded-For that is not itself a trusted proxy. A hop that is not an IP
    address is somebody's text, not an address: then the peer answers for the request."""
    if peer is None or forwarded_for is None or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_address(hop):
            return peer
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in trusted)


def set_session_cookie(response: Response, token: str, expires_at: datetime, *, live: bool) -> None:
    """The browser's copy of the access token: HttpOnly, SameSite=Lax, Secure in live mode."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(0, int((expires_at - clock.now()).total_seconds())),
        httponly=True,
        secure=live,
        samesite="lax",
        path="/",
    )
