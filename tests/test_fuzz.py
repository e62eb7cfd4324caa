"""Fuzzing the GraphQL endpoint: thousands of documents, valid and invalid (hypothesis-graphql),
sent as a customer and as a merchant over HTTP to the app on PostgreSQL. Whatever comes in,
no answer is a 500 or an INTERNAL_SERVER_ERROR. Slow: CI runs it; locally set
PORTAL_TEST_SLOW=1."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode
from hypothesis_graphql import strategies as graphql

from portal_gateway.db import Database
from portal_gateway.schema import schema_sdl
from tests.api import Api
from tests.factories import World, unique_email

CASES = int(os.environ.get("PORTAL_FUZZ_CASES", "5000"))
SDL = schema_sdl()
DOCUMENTS = st.one_of(
    graphql.queries(SDL, allow_x00=True),
    graphql.mutations(SDL, allow_x00=True),
    graphql.queries(SDL, mode=Mode.NEGATIVE),
    graphql.mutations(SDL, mode=Mode.NEGATIVE),
    st.text(max_size=200),  # what does not even parse
)


@pytest.mark.slow
async def test_no_document_gets_an_internal_error(world: World, api: Api, db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("the fuzz run is PostgreSQL's, where input reaches a stricter database")
    business = await world.business()
    account = await world.account(business, unique_email("fuzz"))
    await world.subscription(account, await world.product(business, 1000))
    credentials = [business.api_key, await api.session_for(business, account), None]
    loop = asyncio.get_running_loop()

    def send(document: object, credential: str | None) -> httpx.Response:
        """From Hypothesis's thread, a request through the app in the test's own loop."""
        headers = {"Authorization": f"Bearer {credential}"} if credential else {}
        request = api.client.post("/graphql", json={"query": document}, headers=headers)
        return asyncio.run_coroutine_threadsafe(request, loop).result()

    failures = await asyncio.to_thread(_fuzz, send, credentials)
    assert failures == [], failures[:5]


def _fuzz(
    send: Callable[[object, str | None], httpx.Response], credentials: list[str | None]
) -> list[Any]:
    """The run, in a thread: Hypothesis drives a plain function, while the app answers in
    the test's event loop."""
    failures: list[Any] = []

    @settings(
        max_examples=CASES, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
    )  # fmt: skip
    @given(document=DOCUMENTS, credential=st.sampled_from(credentials))
    def one(document: object, credential: str | None) -> None:
        response = send(document, credential)
        body = response.json()
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in codes or None in codes:
            failures.append((document, response.status_code, body))

    one()
    return failures
