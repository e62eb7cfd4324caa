"""Sign-in by email: unified and per-business links, the outbox that carries them,
rate limits, and single use under concurrency."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.core.emails import InvalidEmailAddress, canonical_email, match_key
from portal_gateway.core.ids import customer_id
from portal_gateway.db import Database
from portal_gateway.models import (
    AuditEvent,
    CustomerAccount,
    LinkToken,
    OutboxMessage,
    PortalSession,
)
from portal_gateway.models.enums import OutboxStatus, SubscriptionStatus
from portal_gateway.notifications.backends import FileBackend, SmtpBackend
from portal_gateway.notifications.dispatcher import LEASE, Dispatcher
from portal_gateway.services.sign_in import composers
from tests.api import Api, app_client, token_of
from tests.conftest import PUBLIC_URL
from tests.factories import Merchant, World, gid, unique_email
from tests.mail import Mailbox, link_in

REQUEST = """mutation($email: String!, $business: ID) {
  requestSignInLink(input: {email: $email, businessId: $business}) {
    __typename
    ... on RequestSignInLinkPayload { accepted }
    ... on InvalidInputError { code field message }
    ... on RateLimitedError { code retryAfterSeconds }
  }
}"""

VIEWER = """{ viewer { email scope business { name } businesses { name }
              accounts { business { name } } subscriptions { totalCount } } }"""


async def _request(
    client: httpx.AsyncClient, email: str, business: str | None = None
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": REQUEST, "variables": {"email": email, "business": business}}
    )


async def _customer_of(world: World, businesses: list[Merchant], email: str) -> None:
    for business in businesses:
        account = await world.account(business, email)
        plan = await world.product(business, 1000)
        await world.subscription(account, plan)


async def test_unified_link_opens_every_business_of_the_email(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    email = unique_email("unified")
    businesses = [await world.business(f"Shop {n}") for n in range(3)]
    await _customer_of(world, businesses, email)
    await _customer_of(world, [await world.business("Not mine")], unique_email())

    answer = await _request(api.client, f"  {email.upper()} ")
    assert answer.json()["data"]["requestSignInLink"] == {
        "__typename": "RequestSignInLinkPayload",
        "accepted": True,
    }
    signed_in = await api.sign_in(token_of(await mailbox.link_for(email)))
    assert signed_in["scope"] == "UNIFIED"
    assert signed_in["business"] is None
    viewer = (await api.gql(VIEWER, token=signed_in["accessToken"]))["data"]["viewer"]
    assert viewer["scope"] == "UNIFIED"
    assert sorted(b["name"] for b in viewer["businesses"]) == ["Shop 0", "Shop 1", "Shop 2"]
    assert len(viewer["accounts"]) == 3
    assert viewer["subscriptions"]["totalCount"] == 3


async def test_static_link_opens_one_business(world: World, api: Api, mailbox: Mailbox) -> None:
    email = unique_email("static")
    home, other = await world.business("Home"), await world.business("Other")
    await _customer_of(world, [home, other], email)
    answer = await _request(api.client, email, home.gid)
    assert answer.json()["data"]["requestSignInLink"]["accepted"] is True
    message = (await mailbox.deliver(), mailbox.messages(to=email))[1][0]
    assert message["Subject"] == "Your sign-in link for Home"
    signed_in = await api.sign_in(token_of(link_in(message)))
    viewer = (await api.gql(VIEWER, token=signed_in["accessToken"]))["data"]["viewer"]
    assert viewer["scope"] == "BUSINESS"
    assert viewer["business"] == {"name": "Home"}
    assert viewer["businesses"] == [{"name": "Home"}]
    assert viewer["subscriptions"]["totalCount"] == 1


async def test_a_static_link_for_a_business_the_email_is_not_with_sends_nothing(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    email = unique_email()
    mine, theirs = await world.business(), await world.business()
    await _customer_of(world, [mine], email)
    assert (await _request(api.client, email, theirs.gid)).status_code == 200
    await mailbox.deliver()
    assert mailbox.messages(to=email) == []


async def test_known_and_unknown_emails_get_byte_identical_answers(
    world: World, api: Api, mailbox: Mailbox, db: Database
) -> None:
    known = unique_email("known")
    await _customer_of(world, [await world.business()], known)
    unknown = unique_email("unknown")
    answers = [await _request(api.client, email) for email in (known, unknown)]
    assert answers[0].content == answers[1].content
    assert answers[0].status_code == answers[1].status_code == 200
    assert answers[0].headers.get("set-cookie") == answers[1].headers.get("set-cookie") is None
    await mailbox.deliver()
    assert len(mailbox.messages(to=known)) == 1
    assert mailbox.messages(to=unknown) == []
    async with db.read_sessions() as session:  # both jobs done; no link for the unknown one
        links = await session.scalar(
            select(func.count()).select_from(LinkToken).where(LinkToken.email_normalized == unknown)
        )
    assert links == 0


@pytest.mark.parametrize("bad", ["", "no-at-sign", "two@@example.com", "a@b", "a b@example.com"])
async def test_malformed_emails_are_refused_and_queue_nothing(
    world: World, api: Api, db: Database, bad: str
) -> None:
    async with db.read_sessions() as session:
        before = await session.scalar(select(func.count()).select_from(OutboxMessage))
    body = (await _request(api.client, bad)).json()["data"]["requestSignInLink"]
    assert body["__typename"] == "InvalidInputError"
    assert (body["code"], body["field"]) == ("INVALID_EMAIL", "email")
    async with db.read_sessions() as session:
        after = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert after == before


async def test_per_email_limit(world: World, api: Api) -> None:
    email = unique_email()
    kinds = [
        (await _request(api.client, email)).json()["data"]["requestSignInLink"]["__typename"]
        for _ in range(6)
    ]
    assert kinds == ["RequestSignInLinkPayload"] * 5 + ["RateLimitedError"]
    limited = (await _request(api.client, email)).json()["data"]["requestSignInLink"]
    assert limited["code"] == "RATE_LIMITED"
    assert 3500 <= limited["retryAfterSeconds"] <= 3600
    # Another email from the same client is still fine.
    other = (await _request(api.client, unique_email())).json()["data"]["requestSignInLink"]
    assert other["__typename"] == "RequestSignInLinkPayload"


async def test_per_client_limit(db: Database, settings: Settings) -> None:
    tight = settings.model_copy(update={"sign_in_link_limit_per_client": "3/hour"})
    async with app_client(tight, db) as client:
        kinds = [
            (await _request(client, unique_email())).json()["data"]["requestSignInLink"][
                "__typename"
            ]
            for _ in range(4)
        ]
    assert kinds == ["RequestSignInLinkPayload"] * 3 + ["RateLimitedError"]


async def test_per_email_limit_holds_across_two_processes_sharing_redis(
    db: Database, settings: Settings, redis_url: str
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    email = unique_email("redis")
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"  # a fresh client key for every run
    async with app_client(shared, db, address) as first, app_client(shared, db, address) as second:
        kinds = []
        for n in range(6):
            client = first if n % 2 else second
            body = (await _request(client, email)).json()["data"]["requestSignInLink"]
            kinds.append(body["__typename"])
    assert kinds == ["RequestSignInLinkPayload"] * 5 + ["RateLimitedError"]


async def test_sign_in_is_rate_limited_per_client(db: Database, settings: Settings) -> None:
    tight = settings.model_copy(update={"sign_in_limit_per_client": "2/hour"})
    async with app_client(tight, db) as client:
        answers = [
            (
                await client.post(
                    "/graphql",
                    json={"query": 'mutation { signIn(input: {token: "nope"}) { __typename } }'},
                )
            ).json()["data"]["signIn"]["__typename"]
            for _ in range(3)
        ]
    assert answers == ["InvalidTokenError", "InvalidTokenError", "RateLimitedError"]


async def test_twenty_concurrent_sign_ins_with_one_token_open_one_session(
    world: World, api: Api, mailbox: Mailbox, db: Database
) -> None:
    email = unique_email("race")
    await _customer_of(world, [await world.business()], email)
    await _request(api.client, email)
    token = token_of(await mailbox.link_for(email))
    results = await asyncio.gather(*(api.sign_in(token) for _ in range(20)))
    kinds = sorted(result.get("code") or result["__typename"] for result in results)
    assert kinds == ["SignInSuccess"] + ["TOKEN_USED"] * 19
    async with db.read_sessions() as session:
        sessions = await session.scalar(
            select(func.count())
            .select_from(PortalSession)
            .where(PortalSession.email_normalized == email)
        )
    assert sessions == 1


async def test_an_emailed_link_expires_after_24_hours(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    email = unique_email()
    await _customer_of(world, [await world.business()], email)
    await _request(api.client, email)
    token = token_of(await mailbox.link_for(email))
    clock.advance(timedelta(hours=24, seconds=1))
    assert (await api.sign_in(token))["code"] == "TOKEN_EXPIRED"


async def test_emails_speak_the_customers_language(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    email = unique_email("de")
    business = await world.business("Bäckerei Schmidt")
    await world.account(business, email, locale="de")
    await _request(api.client, email, business.gid)
    await mailbox.deliver()
    (message,) = mailbox.messages(to=email)
    assert message["Subject"] == "Ihr Anmeldelink für Bäckerei Schmidt"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    assert "läuft am" in text.get_content()
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert 'href="http://portal.test/portal/link?token=' in html.get_content()
    assert "<strong>Bäckerei Schmidt</strong>" in html.get_content()


async def test_sent_messages_are_purged_of_their_payload(
    world: World, api: Api, mailbox: Mailbox, db: Database
) -> None:
    email = unique_email()
    await _customer_of(world, [await world.business()], email)
    await _request(api.client, email)
    await mailbox.deliver()
    async with db.read_sessions() as session:
        message = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.recipient == email)
        )
    assert message is not None
    assert message.status is OutboxStatus.SENT
    assert message.payload is None
    assert message.sent_at is not None


async def test_an_address_that_is_nobodys_is_neither_kept_nor_audited(
    api: Api, mailbox: Mailbox, db: Database
) -> None:
    nobody = unique_email("nobody")
    await _request(api.client, nobody)
    await mailbox.deliver()
    assert mailbox.messages(to=nobody) == []
    async with db.read_sessions() as session:
        kept = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.recipient == nobody)
        )
        audited = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "requestSignInLink")
                .order_by(AuditEvent.created_at.desc()).limit(1)
            )
        ).one()  # fmt: skip
    assert kept == 0
    assert (audited.target_type, audited.result) == ("Customer", "ok")
    assert audited.target_id is not None and nobody not in audited.target_id
    # The target is the person's Customer id, the same opaque id GraphQL shows.
    assert audited.target_id == customer_id(
        nobody, Settings().secret_key.get_secret_value().encode()
    )


async def test_sql_parameters_never_reach_an_error_message(db: Database) -> None:
    secret = "token-" + uuid.uuid4().hex
    with pytest.raises(DBAPIError) as raised:
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO nowhere VALUES (:x)"), {"x": secret})
    assert secret not in str(raised.value)
    assert "[SQL parameters hidden" in str(raised.value)


class _Killed(BaseException):
    """The process dying between sending and marking the message sent."""


class _DiesAfterSending(Dispatcher):
    async def _mark_sent(self, message_id: str, *, delivered: bool) -> None:
        raise _Killed


async def test_a_dispatcher_killed_after_sending_sends_again_with_the_same_message_id(
    world: World, api: Api, db: Database, tmp_path: Path
) -> None:
    email = unique_email("crash")
    await _customer_of(world, [await world.business()], email)
    await _request(api.client, email)
    folder = tmp_path / "mail"
    dying = _DiesAfterSending(db, FileBackend(folder), composers(PUBLIC_URL), sender="x@y.z")
    with pytest.raises(_Killed):
        await dying.drain()
    mailbox = Mailbox(db, folder, PUBLIC_URL)
    assert len(mailbox.messages(to=email)) == 1
    await mailbox.deliver()
    assert len(mailbox.messages(to=email)) == 1  # still within the lease: not yet resent
    clock.advance(LEASE + timedelta(seconds=1))
    await mailbox.deliver()
    first, second = mailbox.messages(to=email)
    assert first["Message-ID"] == second["Message-ID"]
    async with db.read_sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == email))
    assert row is not None and row.status is OutboxStatus.SENT
    assert row.attempts == 2


async def test_two_dispatchers_deliver_each_message_once(
    world: World, api: Api, db: Database, tmp_path: Path
) -> None:
    emails = [unique_email("pair") for _ in range(12)]
    business = await world.business()
    for email in emails:
        await world.account(business, email)
        await _request(api.client, email)
    folder = tmp_path / "mail"
    first, second = (
        Dispatcher(db, FileBackend(folder), composers(PUBLIC_URL), sender="x@y.z", name=name)
        for name in ("one", "two")
    )
    await asyncio.gather(first.drain(), second.drain())
    delivered = Mailbox(db, folder, PUBLIC_URL).messages()
    ours = [m for m in delivered if str(m["To"]) in emails]
    assert sorted(str(m["To"]) for m in ours) == sorted(emails)


class _Collector:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


async def test_smtp_delivery_carries_a_working_link(
    world: World, api: Api, db: Database, settings: Settings
) -> None:
    email = unique_email("smtp")
    await _customer_of(world, [await world.business("Mail Co")], email)
    collector = _Collector()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = settings.model_copy(
            update={
                "email_backend": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_tls": "none",
            }
        )
        await _request(api.client, email)
        dispatcher = Dispatcher(db, SmtpBackend(smtp), composers(PUBLIC_URL), sender="a@b.example")
        await dispatcher.drain()
    finally:
        controller.stop()
    from email import message_from_bytes, policy

    received = [message_from_bytes(raw, policy=policy.default) for raw in collector.messages]
    ours = [m for m in received if str(m["To"]) == email]
    assert len(ours) == 1
    assert isinstance(ours[0], EmailMessage)
    signed_in = await api.sign_in(token_of(link_in(ours[0])))
    assert signed_in["__typename"] == "SignInSuccess"
    assert signed_in["scope"] == "UNIFIED"


async def test_create_portal_session_can_email_the_link(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    business = await world.business("Emailing Co")
    email = unique_email("emailed")
    account = await world.account(business, email, name="Robin")
    plan = await world.product(business, 1000)
    subscription = await world.subscription(account, plan)
    flow = {"type": "SUBSCRIPTION_CANCEL", "subscriptionId": gid("Subscription", subscription.id)}
    link = await api.portal_link(business, account, sendEmail=True, flow=flow)
    assert link["__typename"] == "PortalLink"
    await mailbox.deliver()
    (message,) = mailbox.messages(to=email)
    assert message["Subject"] == "Manage your billing at Emailing Co"
    emailed = link_in(message)
    assert emailed != link["url"]  # its own single-use token
    signed_in = await api.sign_in(token_of(emailed))
    assert signed_in["scope"] == "BUSINESS"
    assert signed_in["flow"]["type"] == "SUBSCRIPTION_CANCEL"
    # And the url the merchant got still works once as well.
    assert (await api.sign_in(token_of(link["url"])))["__typename"] == "SignInSuccess"


async def test_static_portal_url_page_requests_a_business_link(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    business = await world.business("Static & Sons")
    email = unique_email("page")
    await _customer_of(world, [business], email)
    body = await api.gql("{ currentBusiness { staticPortalUrl } }", token=business.api_key)
    url = body["data"]["currentBusiness"]["staticPortalUrl"]
    assert url == f"{PUBLIC_URL}/portal/login/test_{business.id}"
    page = await api.client.get(url)
    assert page.status_code == 200
    assert "Static &amp; Sons" in page.text
    refused = await api.client.post(url, data={"email": email})  # no Origin: not our form
    assert refused.status_code == 403
    sent = await api.client.post(url, data={"email": email}, headers={"Origin": PUBLIC_URL})
    assert sent.status_code == 200
    assert "Check your email" in sent.text
    signed_in = await api.sign_in(token_of(await mailbox.link_for(email)))
    assert signed_in["business"] == {"name": "Static & Sons"}
    bad = await api.client.post(url, data={"email": "nope"}, headers={"Origin": PUBLIC_URL})
    assert bad.status_code == 400
    assert "valid email" in bad.text


async def test_static_links_of_test_mode_do_not_open_in_live(
    world: World, api: Api, db: Database, live_settings: Settings
) -> None:
    business = await world.business()
    async with app_client(live_settings, db) as live:
        assert (await live.get(f"/portal/login/test_{business.id}")).status_code == 404
        assert (await live.get(f"/portal/login/{business.id}")).status_code == 200
    assert (await api.client.get(f"/portal/login/{business.id}")).status_code == 404
    assert (await api.client.get("/portal/login/test_nonexistent")).status_code == 404


async def test_unified_sign_in_page(world: World, api: Api, mailbox: Mailbox) -> None:
    email = unique_email("unified.page")
    await _customer_of(world, [await world.business(), await world.business()], email)
    page = await api.client.get("/portal/login")
    assert page.status_code == 200
    assert 'type="email"' in page.text
    sent = await api.client.post(
        "/portal/login", data={"email": email}, headers={"Origin": PUBLIC_URL}
    )
    assert "Check your email" in sent.text
    signed_in = await api.sign_in(token_of(await mailbox.link_for(email)))
    assert signed_in["scope"] == "UNIFIED"


async def test_a_business_session_never_sees_the_same_email_elsewhere(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    """A business can create a customer with anyone's email: its links stay BUSINESS."""
    email = unique_email("victim")
    victim_shop, attacker = await world.business("Real shop"), await world.business("Attacker")
    await _customer_of(world, [victim_shop], email)
    planted = await world.account(attacker, email)
    token = await api.session_for(attacker, planted)
    viewer = (await api.gql(VIEWER, token=token))["data"]["viewer"]
    assert viewer["scope"] == "BUSINESS"
    assert viewer["businesses"] == [{"name": "Attacker"}]
    assert viewer["subscriptions"]["totalCount"] == 0


def test_console_email_is_refused_in_live_mode() -> None:
    with pytest.raises(ValueError, match="EMAIL_BACKEND"):
        Settings(
            mode="live",
            public_url="https://portal.example",
            secret_key="s" * 40,
            jwt_keys='{"k1": "' + "k" * 40 + '"}',
            payment_processor="test",
        )


async def test_on_hold_dues_read_the_same_in_a_unified_session(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    email = unique_email("dues")
    business = await world.business()
    account = await world.account(business, email)
    plan = await world.product(business, 1234, "KWD")
    await world.subscription(account, plan, SubscriptionStatus.ON_HOLD, dues=1234)
    await _request(api.client, email)
    token = (await api.sign_in(token_of(await mailbox.link_for(email))))["accessToken"]
    body = await api.gql(
        "{ viewer { subscriptions { edges { node { outstandingAmount { amount currency } } } } } }",
        token=token,
    )
    edge = body["data"]["viewer"]["subscriptions"]["edges"][0]
    assert edge["node"]["outstandingAmount"] == {"amount": "1.234", "currency": "KWD"}


async def test_refused_requests_are_audited_too(db: Database, settings: Settings) -> None:
    tight = settings.model_copy(update={"sign_in_link_limit_per_client": "1/hour"})
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"
    async with app_client(tight, db, address) as client:
        await _request(client, "bad-address")
        await _request(client, unique_email())
    async with db.read_sessions() as session:
        results = (
            await session.scalars(
                select(AuditEvent.result)
                .where(AuditEvent.client_address == address)
                .order_by(AuditEvent.created_at)
            )
        ).all()
    assert list(results) == ["INVALID_EMAIL", "RATE_LIMITED"]


async def test_the_link_page_is_rate_limited_like_sign_in(
    world: World, api: Api, db: Database, settings: Settings
) -> None:
    business = await world.business()
    account = await world.account(business, unique_email())
    url = (await api.portal_link(business, account))["url"]
    tight = settings.model_copy(update={"sign_in_limit_per_client": "1/hour"})
    async with app_client(tight, db) as client:
        origin = {"Origin": PUBLIC_URL}
        first = await client.post("/portal/link", data={"token": "wrong"}, headers=origin)
        assert first.status_code == 404
        second = await client.post("/portal/link", data={"token": token_of(url)}, headers=origin)
        assert second.status_code == 429  # refused: the budget is spent, the token unused
        assert "Too many requests" in second.text
    assert (await api.sign_in(token_of(url)))["__typename"] == "SignInSuccess"


KELVIN = "\u212a"  # KELVIN SIGN, which lower-cases to an ASCII k


async def test_a_sign_in_link_goes_to_the_address_typed_never_to_a_stored_variant(
    world: World, api: Api, mailbox: Mailbox, db: Database
) -> None:
    """A business controls what it stores: its variant of a customer's address, updated
    last, must not receive that customer's unified link; nor may a look-alike it stored
    before look-alikes were refused match the real address."""
    local = f"kate.{uuid.uuid4().hex[:6]}"
    home = await world.business("Kate's Shop")
    await world.account(home, f"{local}@example.com")
    steering = await world.business("Steering Co")
    await world.account(steering, f"{local.upper()}@EXAMPLE.com")  # same mailbox, its spelling
    imitator = await world.business("Imitator Co")
    lookalike = f"{KELVIN}{local[1:]}@example.com"
    async with db.transaction() as session:  # as the migration left a row stored earlier
        row = CustomerAccount(business_id=imitator.id, email=lookalike, name="Kate?")
        row.email_normalized = match_key(lookalike)
        session.add(row)
    await _request(api.client, f"  {local}@example.com ")
    await mailbox.deliver()
    (message,) = mailbox.messages()[-1:]
    assert str(message["To"]) == f"{local}@example.com"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "Imitator Co" not in text.get_content()
    assert "Kate's Shop" in text.get_content() and "Steering Co" in text.get_content()


async def test_a_look_alike_address_is_refused_where_it_comes_in(world: World, api: Api) -> None:
    for lookalike in (f"{KELVIN}ate@example.com", "\ufb01le@example.com", "\uff4bate@example.com"):
        answer = (await _request(api.client, lookalike)).json()["data"]["requestSignInLink"]
        assert (answer["__typename"], answer["code"]) == ("InvalidInputError", "INVALID_EMAIL")
        with pytest.raises(InvalidEmailAddress):
            canonical_email(lookalike)
    business = await world.business()
    refused = await api.gql(
        'mutation { updateBusinessSettings(input: {supportEmail: "\\u212aate@example.com"}) {'
        " __typename ... on InvalidInputError { field } } }", token=business.api_key,
    )  # fmt: skip
    assert refused["data"]["updateBusinessSettings"]["field"] == "supportEmail"


def test_the_canonical_form_keeps_ascii_addresses_and_their_customer_ids() -> None:
    assert canonical_email(" Kate@Example.COM ") == "kate@example.com"
    assert canonical_email("jürgen@Bücher.de") == "jürgen@xn--bcher-kva.de"
    secret = b"s" * 32
    before = "kate@example.com"  # what strip().lower() gave
    assert customer_id(canonical_email("Kate@Example.com"), secret) == customer_id(before, secret)


async def test_addresses_mail_servers_take_stay_accepted(world: World, api: Api) -> None:
    """RFC 5322 refuses a Japanese carrier's consecutive dots or an internal domain; mail
    servers deliver them, and the service always took them."""
    for address in ("Taro..Yamada@DOCOMO.ne.jp", "taro.@ezweb.ne.jp", "it@corp.local"):
        answer = (await _request(api.client, address)).json()["data"]["requestSignInLink"]
        assert answer["__typename"] == "RequestSignInLinkPayload", address
    assert canonical_email("Taro..Yamada@DOCOMO.ne.jp") == "taro..yamada@docomo.ne.jp"
