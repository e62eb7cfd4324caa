"""The compiled read path answers as Strawberry does, in a fixed number of statements.

Every query here is sent twice over HTTP, with the compiled path on and off, and the two
bodies must be the same bytes once parsed and re-serialized in their own order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.db import Database
from portal_gateway.models import CreditBalance
from portal_gateway.models.enums import ProductType, SubscriptionStatus
from tests.api import Api, token_of
from tests.factories import Merchant, World, unique_email
from tests.mail import Mailbox

DASHBOARD = (Path(__file__).resolve().parents[1] / "bench" / "dashboard.graphql").read_text()


@contextmanager
def compiled_statements() -> Iterator[list[str]]:
    """The statements the compiled path sends (it reads with asyncpg's fetch, the ORM does
    not)."""
    sent: list[str] = []
    fetch = asyncpg.connection.Connection.fetch

    async def recording(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return await fetch(connection, query, *args, **kwargs)

    asyncpg.connection.Connection.fetch = recording  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        asyncpg.connection.Connection.fetch = fetch  # type: ignore[method-assign]


async def both_paths(
    api: Api,
    settings: Settings,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The body, the same from both paths, and the statements the compiled path sent."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    payload = {"query": query, "variables": variables or {}}
    with compiled_statements() as sent:
        compiled = await api.client.post("/graphql", json=payload, headers=headers)
    settings.compiled_reads = False
    try:
        reference = await api.client.post("/graphql", json=payload, headers=headers)
    finally:
        settings.compiled_reads = True
    assert compiled.status_code == reference.status_code
    assert json.dumps(compiled.json()) == json.dumps(reference.json())
    body: dict[str, Any] = compiled.json()
    return body, sent


async def _customer_of(world: World, business: Merchant, email: str) -> Any:
    account = await world.account(business, email, phone="+15550100")
    plans = await world.collection(business)
    small = await world.product(business, 1000, collection=plans, name="Small")
    await world.product(business, 3000, collection=plans, name="Large")
    await world.product(business, 500, collection=plans, name="Tiny")
    tool = await world.product(business, 500, type=ProductType.ONE_TIME, name="Tool")
    card = await world.card(account)
    active = world.subscription_row(account, small, payment_method=card)
    held = world.subscription_row(
        account, small, SubscriptionStatus.ON_HOLD, dues=1000, payment_method=card
    )
    ending = world.subscription_row(account, small, payment_method=card)
    ending.cancel_at_period_end = True
    fixed = world.subscription_row(account, small)
    fixed.ends_at = clock.now() + timedelta(days=5)
    await world.add(active, held, ending, fixed)
    await world.invoices(account, 4, subscription=active, payment_method=card)
    await world.invoices(account, 2, amount=250_000, currency="JPY")
    for _ in range(2):
        await world.purchase(account, tool)
    await world.add(
        CreditBalance(
            business_id=business.id, account_id=account.id, currency="USD", amount_minor=700
        )
    )
    return account


async def test_the_dashboard_is_the_same_from_both_paths_in_eight_statements(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    business = await world.business()
    account = await _customer_of(world, business, unique_email())
    token = await api.session_for(business, account)
    body, sent = await both_paths(api, settings, DASHBOARD, token=token)
    viewer = body["data"]["viewer"]
    assert viewer["subscriptions"]["totalCount"] == 4
    assert viewer["invoices"]["totalCount"] == 6
    assert viewer["accounts"][0]["creditBalances"] == [{"amount": "7.00", "currency": "USD"}]
    assert len(sent) == 8


async def test_a_unified_dashboard_of_many_businesses_is_the_same_from_both_paths(
    world: World, api: Api, settings: Settings, db: Database, mailbox: Mailbox
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    email = unique_email("unified")
    for n in range(3):
        business = await world.business(allow_updates=n != 1)
        await _customer_of(world, business, email)
    await api.gql(
        "mutation($e: String!) { requestSignInLink(input: {email: $e}) { __typename } }",
        {"e": email},
    )
    signed_in = await api.sign_in(token_of(await mailbox.link_for(email)))
    body, sent = await both_paths(api, settings, DASHBOARD, token=signed_in["accessToken"])
    assert len(body["data"]["viewer"]["businesses"]) == 3
    assert len(sent) == 8
