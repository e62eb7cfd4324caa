"""What the compiled read path sends to PostgreSQL, as a test observes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import asyncpg

from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.models import CreditBalance
from portal_gateway.models.enums import ProductType, SubscriptionStatus
from tests.api import Api
from tests.factories import Merchant, World

SESSION_CHECK = "SELECT portal_sessions."


@contextmanager
def compiled_statements() -> Iterator[list[str]]:
    """The statements the compiled path sends (it reads with asyncpg's fetch, the ORM does
    not). The session check of a bearer token reads through asyncpg too, before any of
    them: it is not the read path's, and is left out."""
    sent: list[str] = []
    fetch = asyncpg.connection.Connection.fetch

    async def recording(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not query.startswith(SESSION_CHECK):
            sent.append(query)
        return await fetch(connection, query, *args, **kwargs)

    asyncpg.connection.Connection.fetch = recording  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        asyncpg.connection.Connection.fetch = fetch  # type: ignore[method-assign]


async def post(
    api: Api,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    operation_name: str | None = None,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    payload: dict[str, Any] = {"query": query, "variables": variables or {}}
    if operation_name is not None:
        payload["operationName"] = operation_name
    return await api.client.post("/graphql", json=payload, headers=headers)


async def paths(
    api: Api,
    settings: Settings,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    operation_name: str | None = None,
) -> tuple[Any, Any, list[str]]:
    """The compiled path's response, the reference's (Strawberry's), and the statements the
    compiled path sent."""
    with compiled_statements() as sent:
        compiled = await post(api, query, variables, token, operation_name)
    settings.compiled_reads = False
    try:
        reference = await post(api, query, variables, token, operation_name)
    finally:
        settings.compiled_reads = True
    return compiled, reference, sent


async def customer_of(world: World, business: Merchant, email: str) -> Any:
    """A customer at `business` with a bit of everything the read path shows: plans of a
    collection (so planChangeOptions is not empty), a card, subscriptions active, on hold,
    ending and of a fixed term, invoices in two currencies with their payments, purchases
    with license keys, and credit."""
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
