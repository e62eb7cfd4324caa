"""The caller's address, and the access log."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_gateway.auth.authenticate import client_address

access_log = logging.getLogger("portal_gateway.access")


class ClientAddressMiddleware:
    """Puts the caller's address in the request's state and logs each request.

    The log line has the path without its query string: sign-in links carry
    their token there, and no log line may carry a token.
    """

    def __init__(self, app: ASGIApp, trusted_proxies: list[str]) -> None:
        self.app = app
        self.trusted = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope["client"][0] if scope.get("client") else None
        forwarded = dict(scope["headers"]).get(b"x-forwarded-for")
        address = client_address(
            peer, forwarded.decode("latin-1") if forwarded else None, self.trusted
        )
        # A copy: the lifespan's state may be one dict shared by every request.
        scope["state"] = {**scope.get("state", {}), "client_address": address}
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            access_log.info(
                '%s "%s %s" %s %.1fms',
                address,
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )
