"""Ways in: merchant API keys, portal links from createPortalSession, signIn, signOut."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlalchemy import select

from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.db import Database
from portal_gateway.models import AuditEvent, LinkToken, PortalSession
from tests.api import Api, app_client, token_of
from tests.factories import World, gid, unique_email

CURRENT_BUSINESS = "{ currentBusiness { id name } }"
VIEWER = "{ viewer { email scope business { name } } }"


async def _refused(client: httpx.AsyncClient, credential: str, query: str = VIEWER) -> str:
    response = await client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {credential}"}
    )
    assert response.status_code == 401
    assert "data" not in response.json()
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


# ---- merchant API keys ----


async def test_api_key_reads_its_business(world: World, api: Api) -> None:
    business = await world.business("Key Co")
    body = await api.gql(CURRENT_BUSINESS, token=business.api_key)
    assert body["data"]["currentBusiness"] == {"id": business.gid, "name": "Key Co"}


async def test_without_credentials_current_business_is_null(world: World, api: Api) -> None:
    assert (await api.gql(CURRENT_BUSINESS))["data"]["currentBusiness"] is None


@pytest.mark.parametrize(
    "credential",
    [
        "sk_test_forged0000000000000000000000000000000",
        "sk_live_forged0000000000000000000000000000000",  # the other mode's kind of key
        "sk_test_",
        "not-a-jwt",
        "a.b.c",
    ],
)
async def test_unknown_credentials_are_refused(client: httpx.AsyncClient, credential: str) -> None:
    assert await _refused(client, credential, CURRENT_BUSINESS) == "UNAUTHENTICATED"


async def test_malformed_authorization_header_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": "Basic abc"}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_test_key_is_refused_in_live_mode(
    world: World, db: Database, live_settings: Settings
) -> None:
    business = await world.business()
    async with app_client(live_settings, db) as client:
        assert await _refused(client, business.api_key, CURRENT_BUSINESS) == "UNAUTHENTICATED"


async def test_customers_are_listed_only_for_the_own_business(world: World, api: Api) -> None:
    business = await world.business()
    other = await world.business()
    email = unique_email("Mixed.Case")
    await world.account(business, email, "Ann")
    await world.account(other, email, "Ann elsewhere")
    query = """query($email: String) { currentBusiness { customers(email: $email) {
                 totalCount edges { node { email name business { id } } } } } }"""
    body = await api.gql(query, {"email": f"  {email.upper()} "}, token=business.api_key)
    customers = body["data"]["currentBusiness"]["customers"]
    assert customers["totalCount"] == 1
    assert customers["edges"][0]["node"] == {
        "email": email,  # as given, while the match is on the normalized form
        "name": "Ann",
        "business": {"id": business.gid},
    }
    # Another business's node answers null for customers.
    query = """query($id: ID!) {
                 node(id: $id) { ... on Business { name customers { totalCount } } } }"""
    body = await api.gql(query, {"id": other.gid}, token=business.api_key)
    assert body["data"]["node"] is None


async def test_merchant_reads_own_objects_by_node_and_not_others(world: World, api: Api) -> None:
    business = await world.business()
    other = await world.business()
    mine = await world.account(business, unique_email())
    theirs = await world.account(other, unique_email())
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    ids = [gid("CustomerAccount", mine.id), gid("CustomerAccount", theirs.id), other.gid]
    body = await api.gql(query, {"ids": ids}, token=business.api_key)
    assert body["data"]["nodes"] == [{"id": ids[0]}, None, None]


async def test_merchant_key_is_forbidden_on_customer_mutations(world: World, api: Api) -> None:
    business = await world.business()
    body = await api.gql("mutation { signOut { ok } }", token=business.api_key, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None


async def test_anonymous_cannot_create_portal_sessions(world: World, api: Api) -> None:
    query = 'mutation { createPortalSession(input: {customerId: "x"}) { __typename } }'
    body = await api.gql(query, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# ---- createPortalSession ----


async def test_portal_link_for_another_business_customer_is_not_found(
    world: World, api: Api
) -> None:
    business = await world.business()
    other = await world.business()
    stranger = await world.account(other, unique_email())
    link = await api.portal_link(business, stranger)
    assert link["__typename"] == "NotFoundError"
    assert link["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"returnUrl": "ftp://shop.example/"}, "returnUrl"),
        ({"returnUrl": "/relative"}, "returnUrl"),
        ({"expiresIn": 59}, "expiresIn"),
        ({"expiresIn": 86401}, "expiresIn"),
    ],
)
async def test_bad_portal_link_input_names_the_field_and_changes_nothing(
    world: World, api: Api, db: Database, input: dict[str, object], field: str
) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    link = await api.portal_link(business, account, **input)
    assert link["__typename"] == "InvalidInputError"
    assert link["field"] == field
    async with db.read_sessions() as session:
        tokens = await session.scalars(select(LinkToken).where(LinkToken.account_id == account.id))
        assert tokens.all() == []
        events = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.business_id == business.id,
                    AuditEvent.action == "createPortalSession",
                )
            )
        ).all()
    assert [event.result for event in events] == ["INVALID_INPUT"]


async def test_flow_subscription_must_be_the_customers(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    other_account = await world.account(business, unique_email())
    plan = await world.product(business, 1000)
    theirs = await world.subscription(other_account, plan)
    link = await api.portal_link(
        business,
        account,
        flow={"type": "SUBSCRIPTION_CANCEL", "subscriptionId": gid("Subscription", theirs.id)},
    )
    assert link["__typename"] == "InvalidInputError"
    assert link["field"] == "flow.subscriptionId"


async def test_link_expiry_follows_expires_in(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    before = clock.now()
    link = await api.portal_link(business, account, expiresIn=600)
    from datetime import datetime

    expires = datetime.fromisoformat(link["expiresAt"])
    assert timedelta(seconds=599) <= expires - before <= timedelta(seconds=601)
    assert link["url"].startswith("http://portal.test/portal/link?token=")


# ---- signIn ----


async def test_sign_in_gives_a_business_session_with_flow_and_return_url(
    world: World, api: Api
) -> None:
    business = await world.business("Flow Co")
    email = unique_email()
    account = await world.account(business, email)
    plan = await world.product(business, 1000)
    subscription = await world.subscription(account, plan)
    link = await api.portal_link(
        business,
        account,
        returnUrl="https://shop.example/account",
        flow={
            "type": "PAYMENT_METHOD_UPDATE",
            "subscriptionId": gid("Subscription", subscription.id),
        },
    )
    signed_in = await api.sign_in(token_of(link["url"]))
    assert signed_in["__typename"] == "SignInSuccess"
    assert signed_in["scope"] == "BUSINESS"
    assert signed_in["business"] == {"name": "Flow Co"}
    assert signed_in["viewer"] == {"email": email}
    assert signed_in["returnUrl"] == "https://shop.example/account"
    assert signed_in["flow"] == {
        "type": "PAYMENT_METHOD_UPDATE",
        "subscription": {"id": gid("Subscription", subscription.id)},
    }
    viewer = await api.gql(VIEWER, token=signed_in["accessToken"])
    assert viewer["data"]["viewer"] == {
        "email": email,
        "scope": "BUSINESS",
        "business": {"name": "Flow Co"},
    }


async def test_sign_in_sets_an_http_only_lax_cookie(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    link = await api.portal_link(business, account)
    response = await api.client.post(
        "/graphql",
        json={
            "query": "mutation($t: String!) { signIn(input: {token: $t}) { __typename } }",
            "variables": {"t": token_of(link["url"])},
        },
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("portal_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # test mode over http; live mode adds it
    # The cookie alone is a session: the client keeps it.
    body = (await api.client.post("/graphql", json={"query": VIEWER})).json()
    assert body["data"]["viewer"]["scope"] == "BUSINESS"


async def test_a_token_signs_in_once(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    token = token_of((await api.portal_link(business, account))["url"])
    assert (await api.sign_in(token))["__typename"] == "SignInSuccess"
    again = await api.sign_in(token)
    assert again == {
        "__typename": "InvalidTokenError",
        "code": "TOKEN_USED",
        "message": again["message"],
    }


async def test_an_expired_link_is_refused(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    token = token_of((await api.portal_link(business, account, expiresIn=60))["url"])
    clock.advance(timedelta(seconds=61))
    assert (await api.sign_in(token))["code"] == "TOKEN_EXPIRED"


async def test_an_unknown_token_is_invalid(world: World, api: Api) -> None:
    assert (await api.sign_in("made-up-token"))["code"] == "TOKEN_INVALID"


def _forge(claims: dict[str, object], key: str, kid: str = "dev") -> str:
    return jwt.encode({"alg": "HS256", "kid": kid}, claims, OctKey.import_key(key))


async def _session_claims(world: World, api: Api) -> tuple[str, dict[str, object]]:
    business = await world.business()
    account = await world.account(business, unique_email())
    token = await api.session_for(business, account)
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return token, claims


async def test_forged_access_tokens_are_refused(world: World, api: Api, settings: Settings) -> None:
    token, claims = await _session_claims(world, api)
    secret = settings.secret_key.get_secret_value()
    header, payload, signature = token.split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    edited = dict(claims, sub="someone-else")
    edited_payload = base64.urlsafe_b64encode(json.dumps(edited).encode()).rstrip(b"=").decode()
    forgeries = {
        "alg none": f"{none_header}.{payload}.",
        "wrong key": _forge(claims, "x" * 40),
        "unknown kid": _forge(claims, secret, kid="other"),
        "edited claims": f"{header}.{edited_payload}.{signature}",
        "expired": _forge(dict(claims, exp=int(clock.now().timestamp()) - 1), secret),
        "no exp": _forge({k: v for k, v in claims.items() if k != "exp"}, secret),
        "malformed": "eyJhbGciOiJIUzI1NiJ9.not-base64!.sig",
    }
    for name, forged in forgeries.items():
        assert await _refused(api.client, forged) == "UNAUTHENTICATED", name
    # The genuine one still works.
    assert (await api.gql(VIEWER, token=token))["data"]["viewer"] is not None


async def test_access_token_expires_with_the_session(world: World, api: Api) -> None:
    """Also once it has been used: a token whose signature was checked before is still
    refused when its time is up."""
    token, _ = await _session_claims(world, api)
    assert (await api.gql(VIEWER, token=token))["data"]["viewer"] is not None
    clock.advance(timedelta(hours=12, seconds=1))
    assert await _refused(api.client, token) == "UNAUTHENTICATED"


async def test_a_session_that_ended_in_the_database_is_refused_with_a_valid_token(
    world: World, api: Api, db: Database
) -> None:
    """The token's own expiry is not the last word: the session row is, on each engine's way
    of checking it (on PostgreSQL a raw connection, without the ORM)."""
    token, claims = await _session_claims(world, api)
    assert (await api.gql(VIEWER, token=token))["data"]["viewer"] is not None
    async with db.transaction() as session:
        row = await session.get(PortalSession, claims["sub"])
        assert row is not None
        row.expires_at = clock.now() - timedelta(seconds=1)
    assert await _refused(api.client, token) == "UNAUTHENTICATED"


async def test_sign_out_revokes_the_session_at_once(world: World, api: Api) -> None:
    token, _ = await _session_claims(world, api)
    body = await api.gql("mutation { signOut { ok } }", token=token)
    assert body["data"]["signOut"] == {"ok": True}
    assert await _refused(api.client, token) == "UNAUTHENTICATED"


async def test_mutations_leave_an_audit_trail(world: World, api: Api, db: Database) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    token = await api.session_for(business, account)
    await api.gql("mutation { signOut { ok } }", token=token)
    async with db.read_sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.business_id == business.id)
                .order_by(AuditEvent.created_at)
            )
        ).all()
    # signIn is recorded as the session it opened (who did it), with its scope.
    assert [(e.action, e.principal_type, e.scope, e.result) for e in events] == [
        ("createPortalSession", "merchant", None, "ok"),
        ("signIn", "portal_session", "BUSINESS", "ok"),
        ("signOut", "portal_session", "BUSINESS", "ok"),
    ]
    assert events[1].principal_id == events[2].principal_id == events[1].target_id
    assert events[0].client_address == "203.0.113.7"


async def test_refusals_at_the_door_are_audited(
    world: World, db: Database, settings: Settings
) -> None:
    business = await world.business()
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    async with app_client(settings, db, address) as client:
        api = Api(client)
        forbidden = await api.gql(
            'mutation { cancelSubscription(input: {subscriptionId: "x"}) { __typename } }',
            token=business.api_key, expect_errors=True,
        )  # fmt: skip
        assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        anonymous = await api.gql("mutation { signOut { ok } }", expect_errors=True)
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        bad_key = await client.post(
            "/graphql", json={"query": "{ __typename }"},
            headers={"Authorization": "Bearer sk_test_" + "x" * 43},
        )  # fmt: skip
        assert bad_key.status_code == 401
    async with db.read_sessions() as session:
        events = (
            await session.scalars(select(AuditEvent).where(AuditEvent.client_address == address))
        ).all()
    assert sorted((e.action, e.principal_type, e.result) for e in events) == [
        ("authenticate", "anonymous", "UNAUTHENTICATED"),
        ("cancelSubscription", "merchant", "FORBIDDEN"),
        ("signOut", "anonymous", "UNAUTHENTICATED"),
    ]


# ---- the link page ----


async def test_link_page_shows_business_and_email_and_consumes_nothing(
    world: World, api: Api
) -> None:
    business = await world.business("Page & Co")
    email = unique_email()
    account = await world.account(business, email)
    url = (await api.portal_link(business, account))["url"]
    for _ in range(2):  # a mail scanner's prefetch, then the person
        page = await api.client.get(url)
        assert page.status_code == 200
        assert "Continue to <strong>Page &amp; Co</strong>" in page.text
        assert email in page.text
        assert page.headers["referrer-policy"] == "same-origin"
    assert (await api.sign_in(token_of(url)))["__typename"] == "SignInSuccess"
    assert (await api.client.get(url)).status_code == 404


async def test_link_page_post_needs_this_services_origin(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    url = (await api.portal_link(business, account))["url"]
    token = token_of(url)
    own = "http://portal.test"
    for headers in (
        {},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # what a page under Referrer-Policy: no-referrer makes a browser send
        {"Origin": own, "Sec-Fetch-Site": "same-site"},  # another port or subdomain
        {"Origin": own, "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},  # no browser's
    ):
        response = await api.client.post("/portal/link", data={"token": token}, headers=headers)
        assert response.status_code == 403, headers
    # Still unused; and the same origin written another way (case, default port) passes.
    same = {"Origin": "HTTP://Portal.TEST:80"}
    response = await api.client.post("/portal/link", data={"token": token}, headers=same)
    assert response.status_code == 303


async def test_link_page_post_signs_in_and_redirects(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    url = (await api.portal_link(business, account, returnUrl="https://shop.example/done"))["url"]
    response = await api.client.post(
        "/portal/link", data={"token": token_of(url)}, headers={"Origin": "http://portal.test"}
    )
    assert response.status_code == 303
    # returnUrl is the portal's way back, not where Continue goes: GraphiQL in test mode.
    assert response.headers["location"] == "/graphql"
    assert "portal_session=" in response.headers["set-cookie"]
    viewer = (await api.client.post("/graphql", json={"query": VIEWER})).json()
    assert viewer["data"]["viewer"]["scope"] == "BUSINESS"
    # Used now: a second POST is refused.
    again = await api.client.post(
        "/portal/link", data={"token": token_of(url)}, headers={"Origin": "http://portal.test"}
    )
    assert again.status_code == 404


async def test_link_page_without_return_url_lands_in_graphiql(world: World, api: Api) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    url = (await api.portal_link(business, account))["url"]
    response = await api.client.post(
        "/portal/link", data={"token": token_of(url)}, headers={"Origin": "http://portal.test"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/graphql"


async def test_customers_connection_pages(world: World, api: Api) -> None:
    business = await world.business()
    emails = [unique_email() for _ in range(5)]
    for email in emails:
        await world.account(business, email)
    query = """query($after: String) { currentBusiness { customers(first: 2, after: $after) {
                 totalCount pageInfo { hasNextPage endCursor } edges { node { email } } } } }"""
    seen: list[str] = []
    after = None
    while True:
        body = await api.gql(query, {"after": after}, token=business.api_key)
        page = body["data"]["currentBusiness"]["customers"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["email"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(reversed(emails))


async def test_cors_allows_only_configured_origins(db: Database) -> None:
    settings = Settings(
        mode="test", database_url=db.url, public_url="http://portal.test",
        cors_origins="https://app.example",  # type: ignore[arg-type]
    )  # fmt: skip
    async with app_client(settings, db) as client:
        preflight = {"Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type,authorization"}  # fmt: skip
        allowed = await client.options(
            "/graphql", headers={"Origin": "https://app.example", **preflight}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        refused = await client.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers


async def test_live_mode_cookie_is_secure(
    world: World, api: Api, db: Database, live_settings: Settings
) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    token = token_of((await api.portal_link(business, account))["url"])
    async with app_client(live_settings, db) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": "mutation($t: String!) { signIn(input: {token: $t}) { __typename } }",
                "variables": {"t": token},
            },
        )
    assert response.json()["data"]["signIn"]["__typename"] == "SignInSuccess"
    assert "Secure" in response.headers["set-cookie"]


async def test_links_point_to_the_front_end_when_configured(world: World, db: Database) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    settings = Settings(
        mode="test", database_url=db.url, public_url="http://portal.test",
        frontend_url="https://billing.example/",
    )  # fmt: skip
    async with app_client(settings, db) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": """mutation($c: ID!) { createPortalSession(input: {customerId: $c}) {
                              ... on PortalLink { url } } }""",
                "variables": {"c": gid("CustomerAccount", account.id)},
            },
            headers={"Authorization": f"Bearer {business.api_key}"},
        )
    url = response.json()["data"]["createPortalSession"]["url"]
    assert url.startswith("https://billing.example/portal/link?token=")


async def test_signing_keys_rotate_without_signing_anyone_out(
    world: World, api: Api, db: Database, settings: Settings
) -> None:
    old_key, new_key = "o" * 40, "n" * 40

    def with_keys(keys: dict[str, str]) -> Settings:
        return Settings.model_validate({**settings.model_dump(), "jwt_keys": json.dumps(keys)})

    before = with_keys({"old": old_key})
    business = await world.business()
    account = await world.account(business, unique_email())
    async with app_client(before, db) as client:
        api.client = client
        old_token = await api.session_for(business, account)
    # The new key signs; the old one still verifies what it signed.
    rotated = with_keys({"new": new_key, "old": old_key})
    async with app_client(rotated, db) as client:
        api.client = client
        assert (await api.gql(VIEWER, token=old_token))["data"]["viewer"] is not None
        new_token = await api.session_for(business, account)
        assert json.loads(base64.urlsafe_b64decode(new_token.split(".")[0] + "=="))["kid"] == "new"
    # Once the old key is dropped, its tokens stop working; the new ones go on.
    dropped = with_keys({"new": new_key})
    async with app_client(dropped, db) as client:
        assert await _refused(client, old_token) == "UNAUTHENTICATED"
        api.client = client
        assert (await api.gql(VIEWER, token=new_token))["data"]["viewer"] is not None


async def test_forwarded_addresses_count_only_from_trusted_proxies(
    world: World, db: Database, settings: Settings
) -> None:
    async def audited_address(client: httpx.AsyncClient, forwarded: str) -> str | None:
        email = unique_email()
        await client.post(
            "/graphql",
            json={
                "query": "mutation($e: String!) { requestSignInLink(input: {email: $e}) "
                "{ __typename } }",
                "variables": {"e": email},
            },
            headers={"X-Forwarded-For": forwarded},
        )  # fmt: skip
        async with db.read_sessions() as session:
            events = await session.scalars(
                select(AuditEvent.client_address)
                .where(AuditEvent.action == "requestSignInLink")
                .order_by(AuditEvent.created_at.desc())
                .limit(1)
            )
            return events.first()

    async with app_client(settings, db, "10.0.0.5") as untrusted:
        assert await audited_address(untrusted, "198.51.100.9") == "10.0.0.5"
    trusting = settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    async with app_client(trusting, db, "10.0.0.5") as behind_proxy:
        # The client's claim first, then what our proxies appended: the rightmost untrusted hop.
        assert await audited_address(behind_proxy, "1.2.3.4, 198.51.100.9, 10.0.0.7") == (
            "198.51.100.9"
        )
