"""A merchant's key finds a customer's subscriptions, to build flow links for them."""

from __future__ import annotations

from portal_gateway.models.enums import SubscriptionStatus
from tests.api import Api
from tests.factories import World, gid, unique_email
from tests.test_statement_counts import counting_statements

CUSTOMERS = """query($first: Int, $after: String) { currentBusiness { customers(first: 100) {
  edges { node { email subscriptions(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id status product { name } } } } } } } } }"""


async def test_merchant_pages_through_a_customers_subscriptions(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    product = await world.product(business, 1000)
    made = [
        await world.subscription(account, product, status)
        for status in (
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.ON_HOLD,
            SubscriptionStatus.CANCELLED,
        )
    ]
    seen: list[str] = []
    after = None
    while True:
        body = await api.gql(CUSTOMERS, {"first": 2, "after": after}, token=business.api_key)
        [customer] = body["data"]["currentBusiness"]["customers"]["edges"]
        page = customer["node"]["subscriptions"]
        assert page["totalCount"] == 3
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [gid("Subscription", row.id) for row in reversed(made)]


async def test_each_customer_sees_only_their_own_subscriptions(world: World, api: Api) -> None:
    business = await world.business()
    product = await world.product(business, 1000)
    ann = await world.account(business, unique_email("ann"))
    bob = await world.account(business, unique_email("bob"))
    anns = await world.subscription(ann, product)
    bobs = await world.subscription(bob, product)
    body = await api.gql(CUSTOMERS, token=business.api_key)
    listed = {
        edge["node"]["email"]: [s["node"]["id"] for s in edge["node"]["subscriptions"]["edges"]]
        for edge in body["data"]["currentBusiness"]["customers"]["edges"]
    }
    assert listed == {
        ann.email: [gid("Subscription", anns.id)],
        bob.email: [gid("Subscription", bobs.id)],
    }
    # A portal session of Ann's reads her account's subscriptions, never Bob's by his node.
    token = await api.session_for(business, ann)
    query = """query($id: ID!) { node(id: $id) { ... on CustomerAccount {
                 subscriptions { edges { node { id } } } } } }"""
    mine = await api.gql(query, {"id": gid("CustomerAccount", ann.id)}, token=token)
    assert mine["data"]["node"]["subscriptions"]["edges"] == [
        {"node": {"id": gid("Subscription", anns.id)}}
    ]
    theirs = await api.gql(query, {"id": gid("CustomerAccount", bob.id)}, token=token)
    assert theirs["data"]["node"] is None


async def test_another_business_cannot_read_the_subscriptions(world: World, api: Api) -> None:
    business = await world.business()
    other = await world.business()
    account = await world.account(business, unique_email())
    await world.subscription(account, await world.product(business, 1000))
    query = """query($id: ID!) { node(id: $id) { ... on CustomerAccount {
                 subscriptions { totalCount } } } }"""
    body = await api.gql(query, {"id": gid("CustomerAccount", account.id)}, token=other.api_key)
    assert body["data"]["node"] is None


async def test_listing_subscriptions_of_many_customers_costs_the_same(
    world: World, api: Api
) -> None:
    async def statements_for(customers: int) -> int:
        business = await world.business()
        product = await world.product(business, 1000)
        for _ in range(customers):
            account = await world.account(business, unique_email())
            await world.subscription(account, product)
            await world.subscription(account, product, SubscriptionStatus.CANCELLED)
        with counting_statements(world.db) as statements:
            body = await api.gql(CUSTOMERS, {"first": 1}, token=business.api_key)
        edges = body["data"]["currentBusiness"]["customers"]["edges"]
        assert len(edges) == customers
        assert all(e["node"]["subscriptions"]["totalCount"] == 2 for e in edges)
        assert all(len(e["node"]["subscriptions"]["edges"]) == 1 for e in edges)
        return len(statements)

    assert await statements_for(2) == await statements_for(12)
