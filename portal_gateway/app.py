"""The Starlette application: routes, middleware and the resources its lifespan owns."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_gateway import sign_in_page
from portal_gateway.auth.access_tokens import AccessTokens
from portal_gateway.auth.authenticate import authenticate, bearer_credential, client_address
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.config import Settings
from portal_gateway.core.errors import AccessError
from portal_gateway.db import Database
from portal_gateway.graphql_http import GRAPHQL_RESPONSE, PortalGraphQL, accepts_graphql_response
from portal_gateway.link_page import redeem, show, signed_in
from portal_gateway.models.enums import ApiKeyMode
from portal_gateway.notifications.backends import backend_from_settings
from portal_gateway.notifications.dispatcher import Dispatcher
from portal_gateway.payments import processor_from_settings
from portal_gateway.reconcile import RECONCILE_GRACE, reconcile_forever, reconcile_pending_payments
from portal_gateway.schema import build_schema
from portal_gateway.services import sign_in

access_log = logging.getLogger("portal_gateway.access")


class ClientAddressMiddleware:
    """Puts the caller's address in request.state and logs each request.

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
        scope.setdefault("state", {})["client_address"] = address
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


class GraphQLEndpoint:
    """Authenticates once per request, then hands over to the GraphQL view."""

    def __init__(self, view: PortalGraphQL, settings: Settings) -> None:
        self.view = view
        self.settings = settings
        self.mode = ApiKeyMode(settings.mode)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            principal = await authenticate(
                self.view.db.read_sessions,
                self.view.tokens,
                self.mode,
                bearer=bearer_credential(request.headers),
                cookie=request.cookies.get("portal_session"),
            )
        except AccessError as error:
            response = _access_error(request, error)
            await response(scope, receive, send)
            return
        request.state.principal = principal
        await self.view(scope, receive, send)


def _access_error(request: Request, error: AccessError) -> Response:
    body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    graphql_response = accepts_graphql_response(request.headers.get("accept", ""))
    return JSONResponse(
        body,
        status_code=401,
        media_type=GRAPHQL_RESPONSE if graphql_response else "application/json",
        headers={"WWW-Authenticate": 'Bearer realm="portal"'},
    )


def tune_garbage_collector() -> None:
    """A dashboard request makes ~100k short-lived objects; with the default thresholds
    the cyclic collector ran so often that it took 45% of a request (bench/dashboard.py:
    155 ms a request; freezing what start-up made and collecting less often: 99 ms)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    db: Database = request.app.state.db
    try:
        async with db.read_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means not ready
        logging.getLogger(__name__).warning("readiness check failed", exc_info=True)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    settings = settings or Settings()
    database = db or Database.from_settings(settings)
    tokens = AccessTokens(settings.signing_keys)
    rate_limits = RateLimits(settings)
    processor = processor_from_settings(settings, database)
    schema = build_schema(
        introspection=settings.introspection_enabled, field_suggestions=not settings.is_live
    )
    view = PortalGraphQL(schema, settings, database, tokens, rate_limits, processor)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tune_garbage_collector()
        # Charges a crash left PENDING are settled before serving, then every few minutes.
        await reconcile_pending_payments(database, processor, older_than=RECONCILE_GRACE)
        # Every process delivers the outbox; claims keep them from sending a message twice.
        background = [
            asyncio.create_task(
                dispatcher_for(settings, database).run_forever(settings.outbox_poll_seconds)
            ),
            asyncio.create_task(reconcile_forever(database, processor)),
        ]
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await rate_limits.close()
            if db is None:  # we made it, we close it
                await database.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", GraphQLEndpoint(view, settings)),
            Route("/portal/link", show, methods=["GET"]),
            Route("/portal/link", redeem, methods=["POST"]),
            Route("/portal/signed-in", signed_in, methods=["GET"]),
            Route("/portal/login", sign_in_page.show, methods=["GET"]),
            Route("/portal/login", sign_in_page.submit, methods=["POST"]),
            Route("/portal/login/{key}", sign_in_page.show, methods=["GET"]),
            Route("/portal/login/{key}", sign_in_page.submit, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        middleware=[
            Middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_credentials=True,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Accept"],
                max_age=600,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.tokens = tokens
    app.state.rate_limits = rate_limits
    app.state.processor = processor
    return app


def dispatcher_for(settings: Settings, db: Database) -> Dispatcher:
    """The outbox dispatcher with this service's composers and configured backend."""
    return Dispatcher(
        db,
        backend_from_settings(settings),
        sign_in.composers(settings.link_base_url),
        sender=settings.email_from,
    )
