"""Input that no user types on purpose gets a typed error on every database, never a 500:
NUL characters (PostgreSQL refuses them in any string), ids that cannot exist."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api import Api
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
    import base64

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
