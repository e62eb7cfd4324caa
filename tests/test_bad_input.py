"""Input that no user types on purpose gets a typed error on every database, never a 500:
NUL characters (PostgreSQL refuses them in any string), ids that cannot exist."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from portal_gateway.auth.authenticate import client_address
from portal_gateway.config import Settings
from portal_gateway.db import Database, database_unavailable
from tests.api import Api, app_client
from tests.factories import World, gid, unique_email

NUL = "a\x00b"
LONG_ID = "x" * 200


async def _typed_errors_only(body: dict[str, Any]) -> None:
    codes = [error["extensions"]["code"] for error in body.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes, body
    assert all(codes), body


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("mutation($e: String!) { requestSignInLink(input: {email: $e}) { __typename } }",
         {"e": f"{NUL}@example.com"}),
        ('mutation { requestSignInLink(input: {email: "a\\u0000b@example.com"}) { __typename } }',
         {}),
        ("query($e: String) { currentBusiness { customers(email: $e) { totalCount } } }",
         {"e": NUL}),
        ("mutation($t: String!) { signIn(input: {token: $t}) { __typename } }", {"t": NUL}),
    ],
)  # fmt: skip
async def test_a_nul_character_is_the_requests_error(
    world: World, api: Api, query: str, variables: dict[str, Any]
) -> None:
    business = await world.business()
    body = await api.gql(query, variables, token=business.api_key, expect_errors=True)
    await _typed_errors_only(body)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_nul_in_a_customers_mutation_changes_nothing(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email("nul"))
    token = await api.session_for(business, account)
    for variables in (
        {"input": {"accountId": gid("CustomerAccount", account.id), "name": NUL}},
        {"input": {"accountId": gid("CustomerAccount", account.id),
                   "billingAddress": {"line1": NUL, "city": "Berlin", "postalCode": "10117",
                                      "country": "DE"}}},
    ):  # fmt: skip
        body = await api.gql(
            "mutation($input: UpdateBillingDetailsInput!) { updateBillingDetails(input: $input)"
            " { __typename } }", variables, token=token, expect_errors=True,
        )  # fmt: skip
        await _typed_errors_only(body)
    me = await api.gql("{ viewer { name } }", token=token)
    assert me["data"]["viewer"]["name"] == account.name


@pytest.mark.parametrize(
    "query",
    [
        'mutation { cancelSubscription(input: {subscriptionId: "%s"}) { __typename } }',
        'mutation { changePlan(input: {subscriptionId: "%s", productId: "%s"}) { __typename } }',
        '{ node(id: "%s") { id } }',
    ],
)
async def test_an_id_that_cannot_exist_is_not_found(world: World, api: Api, query: str) -> None:
    business = await world.business()
    account = await world.account(business, unique_email("ids"))
    token = await api.session_for(business, account)
    for local in (LONG_ID, NUL):
        fake = gid("Subscription", local)
        body = await api.gql(query.replace("%s", fake), token=token, expect_errors=True)
        await _typed_errors_only(body)
        (result,) = body["data"].values()
        assert result is None or result.get("__typename") == "NotFoundError", body


async def test_a_cursor_or_a_static_link_that_cannot_exist_is_refused_cleanly(
    world: World, api: Api, client: httpx.AsyncClient
) -> None:
    business = await world.business()
    account = await world.account(business, unique_email("cursor"))
    token = await api.session_for(business, account)
    cursor = base64.urlsafe_b64encode(f"2026-01-01T00:00:00+00:00|{NUL}".encode()).decode()
    body = await api.gql(
        "query($a: String) { viewer { invoices(after: $a) { totalCount } } }",
        {"a": cursor}, token=token, expect_errors=True,
    )  # fmt: skip
    await _typed_errors_only(body)
    for path in (f"/portal/login/test_{LONG_ID}", "/portal/login/test_a%00b"):
        assert (await client.get(path)).status_code == 404
    for email in (NUL, f"{NUL}@example.com"):
        page = await client.post(
            "/portal/login", data={"email": email}, headers={"Origin": "http://portal.test"}
        )
        assert page.status_code == 400


LONE_SURROGATE = "\ud800"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("mutation($e: String!) { requestSignInLink(input: {email: $e}) { __typename } }",
         {"e": f"{LONE_SURROGATE}@example.com"}),
        ("query($e: String) { currentBusiness { customers(email: $e) { totalCount } } }",
         {"e": LONE_SURROGATE}),
        ("mutation($t: String!) { signIn(input: {token: $t}) { __typename } }",
         {"t": LONE_SURROGATE}),
        ("query($x: String) { __typename }", {"x": LONE_SURROGATE}),
        ("query { __typename }", {"deep": json.loads("[" * 300 + "1" + "]" * 300)}),
    ],
)  # fmt: skip
async def test_text_that_is_not_unicode_or_variables_too_deep_are_the_requests_error(
    world: World, api: Api, query: str, variables: dict[str, Any]
) -> None:
    business = await world.business()
    response = await api.client.post(  # escaped JSON, as a browser's JSON.stringify sends it
        "/graphql", content=json.dumps({"query": query, "variables": variables}),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {business.api_key}"},
    )  # fmt: skip
    body = response.json()
    await _typed_errors_only(body)
    assert "data" not in body
    assert "BAD_USER_INPUT" in {error["extensions"]["code"] for error in body["errors"]}


async def test_a_cursor_at_the_edge_of_time_is_refused_cleanly(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email("edge"))
    token = await api.session_for(business, account)
    cursor = base64.urlsafe_b64encode(b"0001-01-01T00:00:00+14:00|abc").decode()
    body = await api.gql(
        "query($a: String) { viewer { subscriptions(after: $a) { totalCount } } }",
        {"a": cursor}, token=token, expect_errors=True,
    )  # fmt: skip
    await _typed_errors_only(body)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_forwarded_hop_that_is_no_address_leaves_the_peer_as_the_client(
    db: Database, settings: Settings
) -> None:
    behind = settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    async with app_client(behind, db, "10.1.2.3") as client:
        response = await client.post(
            "/graphql",
            json={"query": 'mutation { requestSignInLink(input: {email: "a@example.com"}) {'
                           " __typename } }"},
            headers={"X-Forwarded-For": "x" * 80},
        )  # fmt: skip
    assert response.json()["data"]["requestSignInLink"]["__typename"] == "RequestSignInLinkPayload"
    assert client_address("10.1.2.3", "x" * 80 + ", 10.9.9.9", ["10.0.0.0/8"]) == "10.1.2.3"
    assert client_address("10.1.2.3", "198.51.100.4, 10.9.9.9", ["10.0.0.0/8"]) == "198.51.100.4"


def test_only_an_unreachable_database_reads_as_unavailable() -> None:
    from sqlalchemy.exc import OperationalError

    assert database_unavailable(ConnectionRefusedError(111, "refused"))
    assert not database_unavailable(OperationalError("SELECT", {}, Exception("no such table")))
    assert not database_unavailable(PermissionError("denied"))
    try:
        try:
            raise ConnectionResetError
        except ConnectionResetError:
            raise ValueError("a bug after a retry") from None
    except ValueError as bug:
        assert not database_unavailable(bug)  # its context was suppressed on purpose
