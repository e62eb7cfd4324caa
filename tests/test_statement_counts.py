"""The dashboard costs the same number of SQL statements for a small and a large account."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from portal_gateway.db import Database
from portal_gateway.models.enums import ProductType, SubscriptionStatus
from tests.api import Api, token_of
from tests.compiled import compiled_statements
from tests.factories import World, gid, unique_email
from tests.mail import Mailbox

DASHBOARD = (Path(__file__).resolve().parents[1] / "bench" / "dashboard.graphql").read_text()


@contextmanager
def counting_statements(db: Database) -> Iterator[list[str]]:
    """Every statement a request sends: through SQLAlchemy's engines, and through asyncpg's
    fetch, which the compiled read path uses on PostgreSQL."""
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engines = [db.engine.sync_engine, db.read_engine.sync_engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        with compiled_statements() as compiled:
            yield statements
        statements.extend(compiled)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


def one_path(api: Api) -> Api:
    """The same app, each query answered once: what is counted is one request's."""
    return Api(api.client)


async def _dashboard_statements(world: World, api: Api, subscriptions: int, invoices: int) -> int:
    business = await world.business()
    account = await world.account(business, unique_email())
    plans = await world.collection(business)
    small = await world.product(business, 1000, collection=plans)
    await world.product(business, 3000, collection=plans)
    tool = await world.product(business, 500, type=ProductType.ONE_TIME)
    card = await world.card(account)
    rows = [
        world.subscription_row(
            account,
            small,
            SubscriptionStatus.ACTIVE if n % 2 else SubscriptionStatus.ON_HOLD,
            payment_method=card,
        )
        for n in range(subscriptions)
    ]
    await world.add(*rows)
    await world.invoices(account, invoices, subscription=rows[0], payment_method=card)
    for _ in range(2):
        await world.purchase(account, tool)
    token = await api.session_for(business, account)
    with counting_statements(world.db) as statements:
        body = await one_path(api).gql(DASHBOARD, token=token)
    viewer = body["data"]["viewer"]
    assert viewer["subscriptions"]["totalCount"] == subscriptions
    assert viewer["invoices"]["totalCount"] == invoices
    assert len(viewer["invoices"]["edges"]) == min(invoices, 100)
    active = [e for e in viewer["subscriptions"]["edges"] if e["node"]["status"] == "ACTIVE"]
    assert active[0]["node"]["planChangeOptions"][0]["direction"] == "UPGRADE"
    return len(statements)


async def test_dashboard_statements_do_not_grow_with_the_account(world: World, api: Api) -> None:
    small = await _dashboard_statements(world, api, subscriptions=2, invoices=10)
    large = await _dashboard_statements(world, api, subscriptions=50, invoices=1000)
    assert small == large
    # One to authenticate, one per list and count, one per kind of related row.
    assert small <= 25, small


async def _unified_dashboard_statements(
    world: World, api: Api, mailbox: Mailbox, businesses: int
) -> int:
    email = unique_email("unified")
    for _ in range(businesses):
        business = await world.business()
        account = await world.account(business, email)
        plans = await world.collection(business)
        plan = await world.product(business, 1000, collection=plans)
        await world.product(business, 2000, collection=plans)
        card = await world.card(account)
        subscription = await world.subscription(account, plan, payment_method=card)
        await world.invoices(account, 3, subscription=subscription, payment_method=card)
        await world.purchase(account, await world.product(business, 500, type=ProductType.ONE_TIME))
    await api.gql(
        "mutation($e: String!) { requestSignInLink(input: {email: $e}) { __typename } }",
        {"e": email},
    )
    signed_in = await api.sign_in(token_of(await mailbox.link_for(email)))
    with counting_statements(world.db) as statements:
        body = await one_path(api).gql(DASHBOARD, token=signed_in["accessToken"])
    viewer = body["data"]["viewer"]
    assert viewer["scope"] == "UNIFIED"
    assert len(viewer["businesses"]) == businesses
    assert viewer["invoices"]["totalCount"] == 3 * businesses
    return len(statements)


async def test_unified_dashboard_statements_do_not_grow_with_businesses(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    two = await _unified_dashboard_statements(world, api, mailbox, 2)
    twenty = await _unified_dashboard_statements(world, api, mailbox, 20)
    assert two == twenty


PREVIEWS = """query($p: ID!) { viewer { subscriptions(first: 100) { edges { node {
  planChangePreview(productId: $p) {
    __typename ... on PlanChangePreview { amountDueNow { amount } }
  }
} } } } }"""


async def _preview_statements(world: World, api: Api, subscriptions: int) -> int:
    business = await world.business()
    account = await world.account(business, unique_email())
    plans = await world.collection(business)
    small = await world.product(business, 1000, collection=plans)
    large = await world.product(business, 3000, collection=plans)
    card = await world.card(account)
    await world.add(
        *(world.subscription_row(account, small, payment_method=card) for _ in range(subscriptions))
    )
    token = await api.session_for(business, account)
    with counting_statements(world.db) as statements:
        body = await one_path(api).gql(PREVIEWS, {"p": gid("Product", large.id)}, token=token)
    edges = body["data"]["viewer"]["subscriptions"]["edges"]
    assert [e["node"]["planChangePreview"]["__typename"] for e in edges] == (
        ["PlanChangePreview"] * subscriptions
    )
    return len(statements)


async def test_plan_change_previews_cost_the_same_for_two_subscriptions_as_for_forty(
    world: World, api: Api
) -> None:
    """Each preview reads through the request's loaders: a page of subscriptions with their
    previews is a fixed number of statements, and one connection."""
    assert await _preview_statements(world, api, 2) == await _preview_statements(world, api, 40)


async def test_reads_run_in_autocommit_without_begin_or_rollback(
    world: World, api: Api, db: Database
) -> None:
    """What the database receives for a dashboard read on PostgreSQL, the driver's own
    BEGIN and ROLLBACK and the pool's liveness check included: statements, nothing more."""
    if db.is_sqlite:
        pytest.skip("SQLite has no round trips to save")
    import asyncpg

    business = await world.business()
    account = await world.account(business, unique_email())
    await world.invoices(account, 3)
    token = await api.session_for(business, account)
    sent: list[str] = []
    execute = asyncpg.connection.Connection.execute

    async def recording(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query.strip().upper())
        return await execute(connection, query, *args, **kwargs)

    asyncpg.connection.Connection.execute = recording  # type: ignore[method-assign]
    try:
        with counting_statements(db) as statements:
            body = await one_path(api).gql(DASHBOARD, token=token)
    finally:
        asyncpg.connection.Connection.execute = execute  # type: ignore[method-assign]
    assert len(body["data"]["viewer"]["invoices"]["edges"]) == 3
    assert statements
    assert [query for query in sent if query.startswith(("BEGIN", "ROLLBACK", "COMMIT"))] == []
