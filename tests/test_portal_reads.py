"""What a customer reads in a BUSINESS-scope portal session: lists, money and isolation."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from portal_gateway.models import CustomerAccount, LicenseKey, Payment
from portal_gateway.models.enums import ProductType, SubscriptionStatus
from tests.api import Api, token_of
from tests.factories import Merchant, World, gid, unique_email


async def _customer(
    world: World, api: Api, name: str = "Reader Co"
) -> tuple[Merchant, CustomerAccount, str]:
    business = await world.business(name)
    account = await world.account(business, unique_email())
    token = await api.session_for(business, account)
    return business, account, token


async def _walk(
    world: World, api: Api, token: str, connection: str, page_size: int, node: str
) -> list[Any]:
    """Every node of a viewer connection, page by page."""
    query = f"""query($first: Int, $after: String) {{ viewer {{
                  {connection}(first: $first, after: $after) {{
                  totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
                  edges {{ cursor node {{ {node} }} }} }} }} }}"""
    seen: list[Any] = []
    after = None
    pages = 0
    while True:
        body = await api.gql(query, {"first": page_size, "after": after}, token=token)
        page = body["data"]["viewer"][connection]
        assert len(page["edges"]) <= page_size
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if page["edges"]:
            assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        seen += [edge["node"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(seen)
            return seen
        after = page["pageInfo"]["endCursor"]
        assert pages < 50


async def test_every_connection_pages_without_gaps_or_repeats(world: World, api: Api) -> None:
    business, account, token = await _customer(world, api)
    plan = await world.product(business, 1500)
    license_product = await world.product(business, 4900, type=ProductType.ONE_TIME, name="Tool")
    card = await world.card(account)
    subscriptions = [await world.subscription(account, plan, payment_method=card) for _ in range(7)]
    invoices = await world.invoices(account, 7, subscription=subscriptions[0], payment_method=card)
    purchases = [await world.purchase(account, license_product) for _ in range(5)]

    expected = {
        "subscriptions": [s.id for s in reversed(subscriptions)],
        "invoices": [i.id for i in reversed(invoices)],
        "payments": None,  # one per invoice, newest first
        "purchases": [p.id for p in reversed(purchases)],
        "licenseKeys": None,
    }
    for connection, ids in expected.items():
        nodes = await _walk(world, api, token, connection, 3, "id")
        got = [node["id"] for node in nodes]
        assert len(got) == len(set(got)), connection
        if ids is not None:
            assert got == [gid(_type(connection), i) for i in ids], connection
        else:
            assert len(got) == (7 if connection == "payments" else 5), connection


def _type(connection: str) -> str:
    return {"subscriptions": "Subscription", "invoices": "Invoice", "purchases": "Purchase"}[
        connection
    ]


async def test_subscription_invoices_page_within_the_subscription(world: World, api: Api) -> None:
    business, account, token = await _customer(world, api)
    plan = await world.product(business, 1000)
    first = await world.subscription(account, plan)
    second = await world.subscription(account, plan)
    mine = await world.invoices(account, 5, subscription=first)
    await world.invoices(account, 3, subscription=second)
    query = """query($id: ID!, $after: String) { node(id: $id) { ... on Subscription {
                 invoices(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
                   edges { node { id } } } } } }"""
    seen: list[str] = []
    after = None
    while True:
        body = await api.gql(
            query, {"id": gid("Subscription", first.id), "after": after}, token=token
        )
        page = body["data"]["node"]["invoices"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [gid("Invoice", invoice.id) for invoice in reversed(mine)]


async def test_two_pages_of_one_subscriptions_invoices_in_one_query_do_not_crowd_each_other(
    world: World, api: Api
) -> None:
    business, account, token = await _customer(world, api)
    subscription = await world.subscription(account, await world.product(business, 1000))
    issued = await world.invoices(account, 5, subscription=subscription)
    invoices = [gid("Invoice", invoice.id) for invoice in reversed(issued)]
    page = "totalCount pageInfo { hasNextPage } edges { node { id } }"
    query = f"""query($id: ID!, $after: String) {{ node(id: $id) {{ ... on Subscription {{
                  one: invoices(first: 2) {{ {page} }}
                  two: invoices(first: 2, after: $after) {{ {page} }} }} }} }}"""
    alone = await api.gql(
        "query($id: ID!) { node(id: $id) { ... on Subscription { invoices(first: 2) { edges {"
        " cursor } } } } }", {"id": gid("Subscription", subscription.id)}, token=token,
    )  # fmt: skip
    cursor = alone["data"]["node"]["invoices"]["edges"][-1]["cursor"]
    body = await api.gql(query, {"id": gid("Subscription", subscription.id), "after": cursor},
                         token=token)  # fmt: skip
    one, two = body["data"]["node"]["one"], body["data"]["node"]["two"]
    assert [e["node"]["id"] for e in one["edges"]] == invoices[:2]
    assert [e["node"]["id"] for e in two["edges"]] == invoices[2:4]
    assert two["pageInfo"]["hasNextPage"] is True
    assert one["totalCount"] == two["totalCount"] == 5


@pytest.mark.parametrize("first", [-1, 101])
async def test_first_is_checked(world: World, api: Api, first: int) -> None:
    _, _, token = await _customer(world, api)
    body = await api.gql(
        "query($f: Int) { viewer { invoices(first: $f) { totalCount } } }",
        {"f": first},
        token=token,
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_bad_cursor_is_bad_input(world: World, api: Api) -> None:
    _, _, token = await _customer(world, api)
    body = await api.gql(
        '{ viewer { invoices(after: "garbage") { totalCount } } }', token=token, expect_errors=True
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_default_page_is_twenty(world: World, api: Api) -> None:
    _, account, token = await _customer(world, api)
    await world.invoices(account, 21)
    body = await api.gql(
        "{ viewer { invoices { totalCount pageInfo { hasNextPage } edges { cursor } } } }",
        token=token,
    )
    invoices = body["data"]["viewer"]["invoices"]
    assert (len(invoices["edges"]), invoices["totalCount"]) == (20, 21)
    assert invoices["pageInfo"]["hasNextPage"] is True


async def test_status_filter(world: World, api: Api) -> None:
    business, account, token = await _customer(world, api)
    plan = await world.product(business, 1000)
    active = await world.subscription(account, plan)
    on_hold = await world.subscription(account, plan, SubscriptionStatus.ON_HOLD, dues=1000)
    await world.subscription(account, plan, SubscriptionStatus.CANCELLED)
    query = """query($status: [SubscriptionStatus!]) { viewer { subscriptions(status: $status) {
                 totalCount edges { node { id status } } } } }"""
    body = await api.gql(query, {"status": ["ACTIVE", "ON_HOLD"]}, token=token)
    subscriptions = body["data"]["viewer"]["subscriptions"]
    assert subscriptions["totalCount"] == 2
    assert [edge["node"]["id"] for edge in subscriptions["edges"]] == [
        gid("Subscription", on_hold.id),
        gid("Subscription", active.id),
    ]


async def test_business_filter(world: World, api: Api) -> None:
    business, account, token = await _customer(world, api)
    await world.invoices(account, 2)
    query = """query($b: ID) { viewer { invoices(businessId: $b) { totalCount } } }"""
    mine = await api.gql(query, {"b": business.gid}, token=token)
    assert mine["data"]["viewer"]["invoices"]["totalCount"] == 2
    other = await world.business()
    theirs = await api.gql(query, {"b": other.gid}, token=token)
    assert theirs["data"]["viewer"]["invoices"]["totalCount"] == 0
    wrong_type = await api.gql(query, {"b": gid("Invoice", "x")}, token=token, expect_errors=True)
    assert wrong_type["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("currency", "minor", "amount"),
    [
        ("USD", 1250, "12.50"),
        ("USD", 5, "0.05"),
        ("JPY", 1000, "1000"),
        ("KWD", 1234, "1.234"),
        ("KWD", 1500, "1.500"),
    ],
)
async def test_money_is_exact_in_the_currencys_minor_unit(
    world: World, api: Api, currency: str, minor: int, amount: str
) -> None:
    business, account, token = await _customer(world, api)
    plan = await world.product(business, minor, currency)
    await world.subscription(account, plan, SubscriptionStatus.ON_HOLD, dues=minor, quantity=1)
    await world.invoices(account, 1, amount=minor, currency=currency)
    body = await api.gql(
        """{ viewer {
             subscriptions { edges { node { recurringPrice { amount currency }
                                            outstandingAmount { amount currency }
                                            product { price { amount currency } } } } }
             invoices { edges { node { total { amount currency }
                                       lines { unitAmount { amount } amount { amount } } } } }
           } }""",
        token=token,
    )
    money = {"amount": amount, "currency": currency}
    subscription = body["data"]["viewer"]["subscriptions"]["edges"][0]["node"]
    assert subscription["recurringPrice"] == money
    assert subscription["outstandingAmount"] == money
    assert subscription["product"]["price"] == money
    invoice = body["data"]["viewer"]["invoices"]["edges"][0]["node"]
    assert invoice["total"] == money
    assert invoice["lines"] == [{"unitAmount": {"amount": amount}, "amount": {"amount": amount}}]


async def test_outstanding_amount_is_zero_unless_on_hold(world: World, api: Api) -> None:
    business, account, token = await _customer(world, api)
    plan = await world.product(business, 999, "USD")
    await world.subscription(account, plan, dues=999)
    body = await api.gql(
        "{ viewer { subscriptions { edges { node { outstandingAmount { amount } } } } } }",
        token=token,
    )
    edge = body["data"]["viewer"]["subscriptions"]["edges"][0]
    assert edge["node"]["outstandingAmount"] == {"amount": "0.00"}


async def test_plan_change_options_follow_collection_and_setting(world: World, api: Api) -> None:
    business, account, token = await _customer(world, api)
    plans = await world.collection(business)
    basic = await world.product(business, 1000, collection=plans, name="Basic")
    pro = await world.product(business, 3000, collection=plans, name="Pro")
    await world.product(business, 500, collection=plans, name="Mini")
    await world.product(business, 5000, "EUR", collection=plans, name="Euro")
    await world.product(business, 2000, collection=plans, name="Yearly", interval=None)
    await world.product(business, 9000, name="Elsewhere")
    subscription = await world.subscription(account, pro)
    await world.subscription(account, basic, SubscriptionStatus.CANCELLED)
    query = """query($id: ID!) { node(id: $id) { ... on Subscription {
                 planChangeOptions { direction product { name } } } } }"""
    body = await api.gql(query, {"id": gid("Subscription", subscription.id)}, token=token)
    options = body["data"]["node"]["planChangeOptions"]
    assert sorted((o["product"]["name"], o["direction"]) for o in options) == [
        ("Basic", "DOWNGRADE"),
        ("Mini", "DOWNGRADE"),
    ]


async def test_no_plan_change_options_when_the_business_disallows(world: World, api: Api) -> None:
    business = await world.business(allow_updates=False)
    account = await world.account(business, unique_email())
    token = await api.session_for(business, account)
    plans = await world.collection(business)
    basic = await world.product(business, 1000, collection=plans)
    await world.product(business, 3000, collection=plans)
    subscription = await world.subscription(account, basic)
    body = await api.gql(
        """query($id: ID!) {
             node(id: $id) { ... on Subscription { planChangeOptions { direction } } } }""",
        {"id": gid("Subscription", subscription.id)},
        token=token,
    )
    assert body["data"]["node"]["planChangeOptions"] == []


# ---- isolation ----


async def _everything_of(
    world: World, business: Merchant, email: str
) -> tuple[CustomerAccount, dict[str, str]]:
    """One of every kind of object for `email` at `business`: the account and the global ids."""
    account = await world.account(business, email)
    plans = await world.collection(business)
    plan = await world.product(business, 1000, collection=plans)
    tool = await world.product(business, 2000, type=ProductType.ONE_TIME)
    card = await world.card(account)
    subscription = await world.subscription(account, plan, payment_method=card)
    (invoice,) = await world.invoices(account, 1, subscription=subscription, payment_method=card)
    purchase = await world.purchase(account, tool)
    async with world.db.read_sessions() as session:
        payment = await session.scalar(select(Payment).where(Payment.invoice_id == invoice.id))
        key = await session.scalar(select(LicenseKey).where(LicenseKey.purchase_id == purchase.id))
    assert payment is not None and key is not None
    return account, {
        "Business": business.gid,
        "CustomerAccount": gid("CustomerAccount", account.id),
        "Product": gid("Product", plan.id),
        "ProductCollection": gid("ProductCollection", plans.id),
        "Subscription": gid("Subscription", subscription.id),
        "Invoice": gid("Invoice", invoice.id),
        "PaymentMethod": gid("PaymentMethod", card.id),
        "Purchase": gid("Purchase", purchase.id),
        "Payment": gid("Payment", payment.id),
        "LicenseKey": gid("LicenseKey", key.id),
    }


async def test_a_business_session_never_sees_another_business(world: World, api: Api) -> None:
    email = unique_email("shared")
    home = await world.business("Home")
    away = await world.business("Away")
    home_account, mine = await _everything_of(world, home, email)
    _, theirs = await _everything_of(world, away, email)  # the same email at another business
    _, stranger = await _everything_of(world, home, unique_email("stranger"))  # another customer
    token = await api.session_for(home, home_account)
    body = await api.gql(
        """{ viewer { accounts { business { name } } businesses { name }
             subscriptions { totalCount } invoices { totalCount } payments { totalCount }
             purchases { totalCount }
             licenseKeys { totalCount edges { node { business { name } } } }
             paymentMethods { business { name } } } }""",
        token=token,
    )
    viewer = body["data"]["viewer"]
    assert viewer["accounts"] == [{"business": {"name": "Home"}}]
    assert viewer["businesses"] == [{"name": "Home"}]
    for connection in ("subscriptions", "invoices", "payments", "purchases", "licenseKeys"):
        assert viewer[connection]["totalCount"] == 1, connection
    assert viewer["paymentMethods"] == [{"business": {"name": "Home"}}]

    query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
    visible = await api.gql(query, {"ids": list(mine.values())}, token=token)
    assert [n and n["id"] for n in visible["data"]["nodes"]] == list(mine.values())
    for foreign in (theirs, stranger):
        ids = [i for t, i in foreign.items() if not (foreign is stranger and t in _SHARED)]
        hidden = await api.gql(query, {"ids": ids}, token=token)
        assert hidden["data"]["nodes"] == [None] * len(ids)
        assert "errors" not in hidden
        single = await api.gql(
            "query($id: ID!) { node(id: $id) { id } }", {"id": ids[1]}, token=token
        )
        assert single == {"data": {"node": None}}


# A stranger at the same business shares its catalogue, which every customer may see.
_SHARED = {"Business", "Product", "ProductCollection"}


async def test_nodes_takes_at_most_100_ids(world: World, api: Api) -> None:
    _, _, token = await _customer(world, api)
    body = await api.gql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": ["x"] * 101},
        token=token,
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_malformed_ids_read_as_nothing(world: World, api: Api) -> None:
    _, _, token = await _customer(world, api)
    body = await api.gql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": ["!!", "Tm9wZTp4", gid("Invoice", "missing")]},
        token=token,
    )
    assert body["data"]["nodes"] == [None, None, None]


async def test_customer_id_is_opaque_and_stable(world: World, api: Api) -> None:
    business = await world.business()
    email = unique_email()
    account = await world.account(business, email)
    first = await api.session_for(business, account)
    second = await api.session_for(business, account)
    ids = [
        (await api.gql("{ viewer { id } }", token=token))["data"]["viewer"]["id"]
        for token in (first, second)
    ]
    assert ids[0] == ids[1]
    import base64

    assert email.split("@")[0] not in base64.b64decode(ids[0]).decode()
    node = await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": ids[0]}, token=first)
    assert node["data"]["node"] == {"id": ids[0]}


async def test_no_log_line_carries_a_link_token(
    world: World, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    url = (await api.portal_link(business, account))["url"]
    with caplog.at_level(logging.DEBUG):
        await api.client.get(url)
        await api.sign_in(token_of(url))
    # The service's own records (httpx, the test's client, logs the URL it sends).
    served = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert any("GET /portal/link" in message for message in served)
    assert not any(token_of(url) in message for message in served)
