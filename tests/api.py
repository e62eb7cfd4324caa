"""Talking to the app as a front end does: GraphQL over HTTP, portal links and sessions
made through createPortalSession and signIn, as a merchant would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import graphql
import httpx
from asgi_lifespan import LifespanManager

from portal_gateway.app import create_app
from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.models import CustomerAccount
from portal_gateway.services.logos import LogoFetcher
from tests.factories import Merchant, gid

# Where every host name of the logo tests resolves: a public address (TEST-NET would not be),
# reached only through the transport below, never over the network.
PUBLIC_ADDRESS = "93.184.215.14"


def logo_png(
    color: tuple[int, int, int] = (200, 30, 60), size: tuple[int, int] = (64, 32)
) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def web_of_logos(
    pages: dict[str, httpx.Response] | None = None, seen: list[httpx.Request] | None = None
) -> LogoFetcher:
    """The web as the logo fetcher sees it in tests: every host is public, any path ending in
    .png is a PNG, and `pages` answers by path; `seen` records the requests made."""

    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if pages and request.url.path in pages:
            return pages[request.url.path]
        if request.url.path.endswith(".png"):
            return httpx.Response(200, content=logo_png(), headers={"Content-Type": "image/png"})
        return httpx.Response(404)

    async def resolve(host: str, port: int) -> list[str]:
        return [PUBLIC_ADDRESS]

    return LogoFetcher(resolver=resolve, transport=httpx.MockTransport(answer))


def is_read(query: str) -> bool:
    """Whether the document is queries only (no mutation): what both read paths answer."""
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError:
        return False
    return all(
        isinstance(d, graphql.OperationDefinitionNode)
        and d.operation is graphql.OperationType.QUERY
        for d in document.definitions
        if isinstance(d, graphql.ExecutableDefinitionNode)
        and not isinstance(d, graphql.FragmentDefinitionNode)
    )


class Api:
    """A GraphQL client of the app; `client` may be swapped for one of another app.

    Given the app's `settings` on PostgreSQL, every query it sends is answered twice, by
    the compiled read path and by Strawberry, and the two answers must be the same bytes
    once parsed: every query of the test suite checks that the paths agree."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings | None = None) -> None:
        self.client = client
        self.settings = settings
        self.compared = 0

    async def _both_paths(
        self, payload: dict[str, Any], headers: dict[str, str], compiled: httpx.Response
    ) -> None:
        settings = self.settings
        assert settings is not None
        for attempt in range(2):
            settings.compiled_reads = False
            try:
                reference = await self.client.post("/graphql", json=payload, headers=headers)
            finally:
                settings.compiled_reads = True
            same = compiled.status_code == reference.status_code and json.dumps(
                compiled.json()
            ) == json.dumps(reference.json())
            if same:
                self.compared += 1
                return
            if attempt == 0:  # a signed link's expiry may have crossed a second: once more
                compiled = await self.client.post("/graphql", json=payload, headers=headers)
        assert json.dumps(compiled.json()) == json.dumps(reference.json()), payload["query"]
        assert compiled.status_code == reference.status_code

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        expect_errors: bool = False,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        payload = {"query": query, "variables": variables or {}}
        response = await self.client.post("/graphql", json=payload, headers=headers)
        settings = self.settings
        if settings is not None and settings.compiled_reads and is_read(query):
            await self._both_paths(payload, headers, response)
        body: dict[str, Any] = response.json()
        if not expect_errors:
            assert response.status_code == 200, body
            assert "errors" not in body, body["errors"]
        return body

    async def portal_link(
        self, business: Merchant, account: CustomerAccount, **input: Any
    ) -> dict[str, Any]:
        body = await self.gql(
            """mutation($input: CreatePortalSessionInput!) {
                 createPortalSession(input: $input) {
                   __typename
                   ... on PortalLink { url expiresAt }
                   ... on Error { code message }
                   ... on InvalidInputError { field }
                 }
               }""",
            {"input": {"customerId": gid("CustomerAccount", account.id), **input}},
            token=business.api_key,
        )
        result: dict[str, Any] = body["data"]["createPortalSession"]
        return result

    async def sign_in(self, token: str) -> dict[str, Any]:
        body = await self.gql(
            """mutation($token: String!) {
                 signIn(input: {token: $token}) {
                   __typename
                   ... on SignInSuccess {
                     accessToken expiresAt scope returnUrl
                     business { name }
                     viewer { email }
                     flow { type subscription { id } }
                   }
                   ... on Error { code message }
                 }
               }""",
            {"token": token},
        )
        result: dict[str, Any] = body["data"]["signIn"]
        return result

    async def session_for(self, business: Merchant, account: CustomerAccount, **input: Any) -> str:
        """An access token of a BUSINESS-scope portal session, made as a merchant would."""
        link = await self.portal_link(business, account, **input)
        assert link["__typename"] == "PortalLink", link
        signed_in = await self.sign_in(token_of(link["url"]))
        assert signed_in["__typename"] == "SignInSuccess", signed_in
        access_token: str = signed_in["accessToken"]
        return access_token


@asynccontextmanager
async def app_client(
    settings: Settings, db: Database, client_address: str = "203.0.113.7"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with other settings than the default test ones. The app's lifespan
    runs (its resources are opened and closed), without the background jobs: the tests
    deliver mail and reconcile themselves."""
    app = create_app(settings, db, background=False, logos=web_of_logos())
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=(client_address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as client:
            yield client


def token_of(url: str) -> str:
    return httpx.URL(url).params["token"]
