"""The caller's address, and the access log."""

from __future__ import annotations

import logging
import time

from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_gateway.auth.authenticate import client_address
from portal_gateway.db import database_unavailable

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


class _TooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuses a request body over `max_bytes` with 413 before it is read whole: at once when
    Content-Length says so, else as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _refuse(scope, receive, send, 400, "BAD_REQUEST", "Bad Content-Length.")
                return
            if int(declared) > self.max_bytes:
                await _refuse(scope, receive, send, 413, "PAYLOAD_TOO_LARGE", self._message)
                return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def noted(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, noted)
        except _TooLarge:
            if started:
                raise
            await _refuse(scope, receive, send, 413, "PAYLOAD_TOO_LARGE", self._message)

    @property
    def _message(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
) -> None:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    response = JSONResponse(body, status_code=status, headers={"Connection": "close"})
    await response(scope, receive, send)


class DatabaseUnavailableMiddleware:
    """Any route, when the database cannot be reached: 503 with Retry-After, to retry shortly,
    instead of a 500. (GraphQL answers it with an error body of its own.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noted(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noted)
        except Exception as error:
            if started or not database_unavailable(error):
                raise
            access_log.warning("database unavailable: %s %s", scope["method"], scope["path"])
            response = PlainTextResponse(
                "The service is briefly unavailable; try again shortly.",
                status_code=503,
                headers={"Retry-After": "5"},
            )
            await response(scope, receive, send)
