"""Every route and middleware of the service, in one table."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route
from strawberry import Schema

from portal_gateway.config import Settings
from portal_gateway.services.links import LINK_PATH, SIGN_IN_PATH
from portal_gateway.web import invoice_documents, link_page, sign_in_page
from portal_gateway.web.graphql import GRAPHQL_PATH, GraphQLEndpoint
from portal_gateway.web.health import healthz, readyz
from portal_gateway.web.middleware import (
    BodySizeLimitMiddleware,
    ClientAddressMiddleware,
    DatabaseUnavailableMiddleware,
)


def routes(settings: Settings, schema: Schema) -> list[Route]:
    static_link = f"{SIGN_IN_PATH}/{{key}}"
    return [
        Route(GRAPHQL_PATH, GraphQLEndpoint(schema, graphiql=settings.graphiql_enabled)),
        Route(LINK_PATH, link_page.show, methods=["GET"]),
        Route(LINK_PATH, link_page.redeem, methods=["POST"]),
        Route(link_page.SIGNED_IN_PATH, link_page.signed_in, methods=["GET"]),
        Route(SIGN_IN_PATH, sign_in_page.show, methods=["GET"]),
        Route(SIGN_IN_PATH, sign_in_page.submit, methods=["POST"]),
        Route(static_link, sign_in_page.show, methods=["GET"]),
        Route(static_link, sign_in_page.submit, methods=["POST"]),
        Route(invoice_documents.INVOICE_PDF_PATH, invoice_documents.show, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]


def middleware(settings: Settings) -> list[Middleware]:
    """Outermost first. CORS wraps the refusals below it (413, 503), so a front end on
    another origin can read them."""
    return [
        Middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            max_age=600,
        ),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
        Middleware(DatabaseUnavailableMiddleware),
    ]
