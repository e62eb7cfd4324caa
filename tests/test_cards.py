"""Saved cards: adding one from a token, removing one, and putting one on a subscription;
an ON_HOLD subscription's dues are charged with the new card in one step."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal_gateway.auth.principal import PortalPrincipal
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.core.errors import ConflictError
from portal_gateway.db import Database
from portal_gateway.models import (
    AuditEvent,
    Invoice,
    OutboxMessage,
    Payment,
    PaymentMethod,
    Subscription,
)
from portal_gateway.models.enums import (
    OutboxStatus,
    PaymentStatus,
    PortalScope,
    SubscriptionStatus,
)
from portal_gateway.notifications.backends import FileBackend
from portal_gateway.notifications.dispatcher import Dispatcher
from portal_gateway.payments.processor import TimedProcessor
from portal_gateway.payments.test_processor import TestProcessor
from portal_gateway.services import card_updates, cards
from portal_gateway.services.reconciliation import reconcile_pending_payments
from portal_gateway.services.unit_of_work import Actor
from tests.api import Api, app_client
from tests.factories import World, gid, unique_email
from tests.mail import Mailbox
from tests.test_subscriptions import Subscriber, _LateProcessor, _rows, _subscriber

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

ADD = """mutation($input: AddPaymentMethodInput!) { addPaymentMethod(input: $input) {
  __typename
  ... on AddPaymentMethodSuccess { paymentMethod { id brand last4 expMonth expYear
      business { id } } }
  ... on PaymentFailedError { code declineCode payment { id } }
  ... on InvalidInputError { code field message }
  ... on RateLimitedError { code retryAfterSeconds }
  ... on Error { code message }
} }"""

REMOVE = """mutation($id: ID!) { removePaymentMethod(input: {paymentMethodId: $id}) {
  __typename
  ... on RemovePaymentMethodSuccess { removedPaymentMethodId }
  ... on PaymentMethodInUseError { code subscriptionIds }
  ... on Error { code message }
} }"""

UPDATE_CARD = """mutation($input: UpdatePaymentMethodInput!) { updatePaymentMethod(input: $input) {
  __typename
  ... on UpdatePaymentMethodSuccess { reactivated
      subscription { id status currentPeriodStart nextBillingDate outstandingAmount { amount }
        paymentMethod { id last4 } }
      paymentMethod { id brand last4 }
      invoice { id number status total { amount currency } }
      payment { id status amount { amount currency } paymentMethod { last4 } } }
  ... on PaymentFailedError { code declineCode payment { id status failureCode } }
  ... on InvalidInputError { code field }
  ... on InvalidStateError { code status }
  ... on RateLimitedError { code retryAfterSeconds }
  ... on Error { code message }
} }"""

CARDS = "{ viewer { paymentMethods { id last4 } } }"


@pytest.fixture(autouse=True)
def _frozen_clock() -> None:
    clock.freeze(NOW)


async def _add(api: Api, who: Subscriber, token: str) -> dict[str, Any]:
    body = await api.gql(
        ADD, {"input": {"businessId": who.business.gid, "token": token}}, token=who.token
    )
    result: dict[str, Any] = body["data"]["addPaymentMethod"]
    return result


async def _update(api: Api, who: Subscriber, **input: Any) -> dict[str, Any]:
    body = await api.gql(
        UPDATE_CARD, {"input": {"subscriptionId": who.subscription_id, **input}}, token=who.token
    )
    result: dict[str, Any] = body["data"]["updatePaymentMethod"]
    return result


async def _saved_last4s(api: Api, who: Subscriber) -> list[str]:
    body = await api.gql(CARDS, token=who.token)
    return sorted(card["last4"] for card in body["data"]["viewer"]["paymentMethods"])


async def _of_subscription(db: Database, model: Any, who: Subscriber) -> list[Any]:
    column = model.id if model is Subscription else model.subscription_id
    return await _rows(db, select(model).where(column == who.subscription.id))


async def _cards_ending(db: Database, who: Subscriber, last4: str) -> list[PaymentMethod]:
    return await _rows(
        db,
        select(PaymentMethod).where(
            PaymentMethod.account_id == who.account.id, PaymentMethod.last4 == last4
        ),
    )


# ---- addPaymentMethod ----


async def test_a_card_is_saved_from_a_token_and_the_customer_is_told(
    world: World, api: Api, mailbox: Mailbox
) -> None:
    who = await _subscriber(world, api)
    added = await _add(api, who, "tok_mastercard")
    assert added["__typename"] == "AddPaymentMethodSuccess"
    card = added["paymentMethod"]
    assert (card["brand"], card["last4"], card["expMonth"], card["expYear"]) == (
        "MASTERCARD", "4444", 12, 2034,
    )  # fmt: skip
    assert card["business"] == {"id": who.business.gid}
    assert await _saved_last4s(api, who) == ["4242", "4444"]
    await mailbox.deliver()
    (message,) = mailbox.messages(to=who.account.email)
    assert "Mastercard card ending in 4444 (expires 12/2034)" in str(
        message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    )


async def test_a_card_number_is_refused_and_never_stored_or_logged(
    world: World, api: Api, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    who = await _subscriber(world, api)
    caplog.set_level(logging.DEBUG)
    for number in (
        "4242424242424242", "4242 4242 4242 4242", "tok_4000-0566-5566-5556",
        "4242.4242.4242.4242", "4242\u00a04242\u00a04242\u00a04242", "4242 - 4242 - 4242 - 4242",
        "\uff14\uff12\uff14\uff12" * 4,  # full-width digits
    ):  # fmt: skip
        added = await _add(api, who, number)
        assert (added["__typename"], added["code"], added["field"]) == (
            "InvalidInputError", "CARD_NUMBER_NOT_ACCEPTED", "token",
        )  # fmt: skip
        assert number not in added["message"]
        updated = await _update(api, who, token=number)
        assert (updated["__typename"], updated["field"]) == ("InvalidInputError", "token")
    assert await _saved_last4s(api, who) == ["4242"]
    assert "4242424242424242" not in caplog.text and "4242 4242" not in caplog.text
    assert "5566" not in caplog.text and "4242.4242" not in caplog.text
    events = await _rows(db, select(AuditEvent).where(AuditEvent.business_id == who.business.id))
    assert all("4242 4242" not in repr(vars(event)) for event in events)


@pytest.mark.parametrize(
    ("token", "typename", "code"),
    [
        ("tok_expired", "PaymentFailedError", "expired_card"),
        ("tok_nonsense", "InvalidInputError", "INVALID_TOKEN"),
        ("", "InvalidInputError", "INVALID_INPUT"),
    ],
)
async def test_a_refused_card_is_not_saved_and_nothing_is_charged(
    world: World, api: Api, db: Database, token: str, typename: str, code: str
) -> None:
    who = await _subscriber(world, api)
    added = await _add(api, who, token)
    assert added["__typename"] == typename
    assert (added.get("declineCode") or added["code"]) == code
    if typename == "PaymentFailedError":
        assert added["payment"] is None  # no payment: nothing was charged
    assert await _saved_last4s(api, who) == ["4242"]
    assert await _rows(db, select(Payment).where(Payment.account_id == who.account.id)) == []


async def test_a_card_for_a_business_the_customer_does_not_buy_from_is_not_found(
    world: World, api: Api
) -> None:
    who = await _subscriber(world, api)
    other = await world.business()
    body = await api.gql(
        ADD, {"input": {"businessId": other.gid, "token": "tok_visa"}}, token=who.token
    )
    assert body["data"]["addPaymentMethod"]["code"] == "NOT_FOUND"


async def test_card_changes_are_rate_limited_per_session(world: World, db: Database) -> None:
    settings = Settings(
        mode="test", database_url=db.url, public_url="http://portal.test",
        card_limit_per_session="2/hour",
    )  # fmt: skip
    async with app_client(settings, db) as client:
        api = Api(client)
        who = await _subscriber(world, api)
        assert (await _add(api, who, "tok_visa"))["__typename"] == "AddPaymentMethodSuccess"
        assert (await _add(api, who, "tok_expired"))["__typename"] == "PaymentFailedError"
        limited = await _add(api, who, "tok_mastercard")
        assert limited["__typename"] == "RateLimitedError"
        assert limited["retryAfterSeconds"] > 0
        refused = await _update(api, who, token="tok_mastercard")
        assert refused["__typename"] == "RateLimitedError"
        assert await _saved_last4s(api, who) == ["4242", "4242"]


async def test_card_changes_are_rate_limited_per_account_across_sessions(
    world: World, db: Database
) -> None:
    settings = Settings(
        mode="test", database_url=db.url, public_url="http://portal.test",
        card_limit_per_account="2/day",
    )  # fmt: skip
    async with app_client(settings, db) as client:
        api = Api(client)
        who = await _subscriber(world, api)
        for _ in range(2):
            token = await api.session_for(who.business, who.account)
            body = await api.gql(
                ADD, {"input": {"businessId": who.business.gid, "token": "tok_visa"}}, token=token
            )
            assert body["data"]["addPaymentMethod"]["__typename"] == "AddPaymentMethodSuccess"
        fresh = await api.session_for(who.business, who.account)
        body = await api.gql(
            ADD, {"input": {"businessId": who.business.gid, "token": "tok_visa"}}, token=fresh
        )
        assert body["data"]["addPaymentMethod"]["__typename"] == "RateLimitedError"


# ---- removePaymentMethod ----


async def test_a_spare_card_is_removed_and_detached_at_the_processor(
    world: World, api: Api, db: Database, mailbox: Mailbox
) -> None:
    who = await _subscriber(world, api)
    spare = (await _add(api, who, "tok_mastercard"))["paymentMethod"]["id"]
    removed = await api.gql(REMOVE, {"id": spare}, token=who.token)
    assert removed["data"]["removePaymentMethod"] == {
        "__typename": "RemovePaymentMethodSuccess", "removedPaymentMethodId": spare,
    }  # fmt: skip
    assert await _saved_last4s(api, who) == ["4242"]
    again = await api.gql(REMOVE, {"id": spare}, token=who.token)
    assert again["data"]["removePaymentMethod"]["code"] == "NOT_FOUND"
    (card,) = await _cards_ending(db, who, "4444")
    processor = TestProcessor(db, live=False)
    assert not await processor.is_detached(card.processor_ref)
    await mailbox.deliver()
    assert await processor.is_detached(card.processor_ref)
    subjects = [str(m["Subject"]) for m in mailbox.messages(to=who.account.email)]
    assert any("removed" in subject for subject in subjects), subjects


async def test_a_card_a_subscription_pays_with_cannot_be_removed(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, status=SubscriptionStatus.ON_HOLD, dues=1000)
    card = gid("PaymentMethod", who.subscription.payment_method_id or "")
    refused = (await api.gql(REMOVE, {"id": card}, token=who.token))["data"]
    assert refused["removePaymentMethod"]["__typename"] == "PaymentMethodInUseError"
    assert refused["removePaymentMethod"]["code"] == "PAYMENT_METHOD_IN_USE"
    assert refused["removePaymentMethod"]["subscriptionIds"] == [who.subscription_id]
    assert await _saved_last4s(api, who) == ["4242"]
    # Another account's card is as absent as a removed one.
    stranger = await _subscriber(world, api)
    theirs = await api.gql(REMOVE, {"id": card}, token=stranger.token)
    assert theirs["data"]["removePaymentMethod"]["code"] == "NOT_FOUND"


async def test_a_card_being_charged_for_dues_cannot_be_removed(
    world: World, api: Api, db: Database
) -> None:
    """Between the dues charge and its outcome the subscription does not yet pay with the new
    card; removing the card then would detach it while it is being charged."""
    who = await _subscriber(world, api, status=SubscriptionStatus.ON_HOLD, dues=1000)
    card = await world.card(who.account, "tok_mastercard")
    await world.add(
        Payment(
            business_id=who.business.id, account_id=who.account.id,
            subscription_id=who.subscription.id, payment_method_id=card.id, amount_minor=1000,
            currency="USD", status=PaymentStatus.PENDING, purpose=card_updates.PURPOSE,
            details=card_updates.DuesCharge(card.id, [], 0, None).to_json(),
        )
    )  # fmt: skip
    refused = (await api.gql(REMOVE, {"id": gid("PaymentMethod", card.id)}, token=who.token))[
        "data"
    ]["removePaymentMethod"]
    assert refused["__typename"] == "PaymentMethodInUseError"
    assert refused["subscriptionIds"] == [who.subscription_id]
    assert await _saved_last4s(api, who) == ["4242", "4444"]


async def test_a_bad_idempotency_key_is_refused_before_a_token_is_attached(
    world: World, api: Api
) -> None:
    who = await _subscriber(world, api, status=SubscriptionStatus.ON_HOLD, dues=1000)
    refused = await _update(api, who, token="tok_visa", idempotencyKey="k" * 256)
    assert refused["__typename"] == "ConflictError"
    assert await _saved_last4s(api, who) == ["4242"]


class _FlakyDetach(TestProcessor):
    """A processor whose detach fails the first `failures` times."""

    def __init__(self, db: Database, failures: int) -> None:
        super().__init__(db, live=False)
        self.failures = failures
        self.calls = 0

    async def detach(self, payment_method_ref: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("processor unreachable")
        await super().detach(payment_method_ref)


async def test_a_detach_that_fails_is_retried_until_it_succeeds(
    world: World, api: Api, db: Database, tmp_path: Any
) -> None:
    who = await _subscriber(world, api)
    spare = (await _add(api, who, "tok_mastercard"))["paymentMethod"]["id"]
    await api.gql(REMOVE, {"id": spare}, token=who.token)
    processor = _FlakyDetach(db, failures=9)  # more than an email's eight attempts
    dispatcher = Dispatcher(
        db, FileBackend(tmp_path), {}, sender="x@y.example",
        actions={cards.DETACH_JOB: cards.detach_action(processor)},
    )  # fmt: skip
    (job,) = await _rows(
        db, select(OutboxMessage).where(OutboxMessage.kind == cards.DETACH_JOB,
                                        OutboxMessage.status == OutboxStatus.PENDING)
    )  # fmt: skip
    for _ in range(10):
        await dispatcher.run_once()
        clock.advance(timedelta(hours=2))  # past any backoff
    (job,) = await _rows(db, select(OutboxMessage).where(OutboxMessage.id == job.id))
    assert job.status is OutboxStatus.SENT
    assert processor.calls == 10
    (card,) = await _cards_ending(db, who, "4444")
    assert await processor.is_detached(card.processor_ref)


# ---- updatePaymentMethod ----


async def test_an_active_subscription_switches_cards_without_a_charge(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    updated = await _update(api, who, token="tok_mastercard")
    assert updated["__typename"] == "UpdatePaymentMethodSuccess"
    assert (updated["reactivated"], updated["invoice"], updated["payment"]) == (False, None, None)
    assert updated["subscription"]["paymentMethod"]["last4"] == "4444"
    assert updated["subscription"]["status"] == "ACTIVE"
    # And back to the first card by its id.
    first = gid("PaymentMethod", who.subscription.payment_method_id or "")
    back = await _update(api, who, paymentMethodId=first)
    assert back["subscription"]["paymentMethod"] == {"id": first, "last4": "4242"}
    assert await _rows(db, select(Payment).where(Payment.account_id == who.account.id)) == []


@pytest.mark.parametrize(
    "input",
    [{}, {"token": "tok_visa", "paymentMethodId": "UGF5bWVudE1ldGhvZDp4"}],
)
async def test_exactly_one_of_card_and_token(world: World, api: Api, input: dict[str, str]) -> None:
    who = await _subscriber(world, api)
    refused = await _update(api, who, **input)
    assert (refused["__typename"], refused["field"]) == ("InvalidInputError", "paymentMethodId")


async def test_a_card_of_another_account_or_business_is_not_found(world: World, api: Api) -> None:
    who = await _subscriber(world, api)
    neighbour = await world.account(who.business, unique_email("neighbour"))
    theirs = await world.card(neighbour, "tok_mastercard")
    elsewhere = await world.account(await world.business(), who.account.email)
    foreign = await world.card(elsewhere, "tok_mastercard")
    for card in (theirs, foreign):
        refused = await _update(api, who, paymentMethodId=gid("PaymentMethod", card.id))
        assert refused["code"] == "NOT_FOUND"


@pytest.mark.parametrize("status", [SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED])
async def test_an_ended_subscription_keeps_its_card(
    world: World, api: Api, status: SubscriptionStatus
) -> None:
    who = await _subscriber(world, api, status=status)
    refused = await _update(api, who, token="tok_mastercard")
    assert (refused["__typename"], refused["status"]) == ("InvalidStateError", status.value)
    assert await _saved_last4s(api, who) == ["4242"]  # the token was never attached


async def test_on_hold_declined_then_paid_with_another_card(
    world: World, api: Api, db: Database, mailbox: Mailbox
) -> None:
    who = await _subscriber(world, api, status=SubscriptionStatus.ON_HOLD, dues=1428)
    declined = await _update(api, who, token="tok_declined")
    assert declined["__typename"] == "PaymentFailedError"
    assert declined["declineCode"] == "card_declined"
    assert declined["payment"]["status"] == "FAILED"
    (subscription,) = await _of_subscription(db, Subscription, who)
    assert (subscription.status, subscription.dues_minor) == (SubscriptionStatus.ON_HOLD, 1428)
    assert subscription.payment_method_id == who.subscription.payment_method_id  # not applied
    assert await _saved_last4s(api, who) == ["0002", "4242"]  # the token's card stays saved

    paid = await _update(api, who, token="tok_visa")
    assert paid["__typename"] == "UpdatePaymentMethodSuccess"
    assert paid["reactivated"] is True
    assert paid["subscription"]["status"] == "ACTIVE"
    assert paid["subscription"]["outstandingAmount"] == {"amount": "0.00"}
    assert paid["subscription"]["currentPeriodStart"] == NOW.isoformat()
    assert paid["subscription"]["paymentMethod"]["id"] == paid["paymentMethod"]["id"]
    assert paid["invoice"]["total"] == {"amount": "14.28", "currency": "USD"}
    assert paid["invoice"]["status"] == "PAID"
    assert paid["payment"]["status"] == "SUCCEEDED"
    assert paid["payment"]["amount"] == {"amount": "14.28", "currency": "USD"}
    invoices = await _of_subscription(db, Invoice, who)
    assert len(invoices) == 1
    payments = await _of_subscription(db, Payment, who)
    assert sorted(p.status.value for p in payments) == ["FAILED", "SUCCEEDED"]
    await mailbox.deliver()
    subjects = sorted(str(m["Subject"]) for m in mailbox.messages(to=who.account.email))
    assert any(s.startswith("Receipt for your payment") for s in subjects), subjects
    assert any(s.endswith("is active again") for s in subjects), subjects


async def test_concurrent_updates_charge_the_dues_once(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, status=SubscriptionStatus.ON_HOLD, dues=1000)
    card = gid("PaymentMethod", (await world.card(who.account, "tok_mastercard")).id)
    results = await asyncio.gather(*(_update(api, who, paymentMethodId=card) for _ in range(10)))
    names = [result["__typename"] for result in results]
    assert names.count("UpdatePaymentMethodSuccess") >= 1
    assert set(names) <= {"UpdatePaymentMethodSuccess", "ConflictError"}
    assert sum(1 for result in results if result.get("reactivated")) == 1
    payments = await _of_subscription(db, Payment, who)
    assert [(p.status, p.amount_minor) for p in payments] == [(PaymentStatus.SUCCEEDED, 1000)]
    invoices = await _of_subscription(db, Invoice, who)
    assert len(invoices) == 1


async def test_a_retried_idempotency_key_returns_the_first_result(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, status=SubscriptionStatus.ON_HOLD, dues=1000)
    first = await _update(api, who, token="tok_visa", idempotencyKey="retry-1")
    again = await _update(api, who, token="tok_visa", idempotencyKey="retry-1")
    assert first["__typename"] == again["__typename"] == "UpdatePaymentMethodSuccess"
    assert again["reactivated"] is True
    assert again["payment"]["id"] == first["payment"]["id"]
    assert again["invoice"]["id"] == first["invoice"]["id"]
    assert again["paymentMethod"]["id"] == first["paymentMethod"]["id"]
    assert await _saved_last4s(api, who) == ["4242", "4242"]  # not attached twice
    other = await _update(api, who, token="tok_mastercard", idempotencyKey="retry-1")
    assert other["__typename"] == "ConflictError"
    payments = await _of_subscription(db, Payment, who)
    assert len(payments) == 1


async def test_a_retried_key_after_a_decline_returns_the_decline(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, status=SubscriptionStatus.ON_HOLD, dues=1000)
    card = gid("PaymentMethod", (await world.card(who.account, "tok_declined")).id)
    first = await _update(api, who, paymentMethodId=card, idempotencyKey="k")
    again = await _update(api, who, paymentMethodId=card, idempotencyKey="k")
    assert first["__typename"] == again["__typename"] == "PaymentFailedError"
    assert again["payment"]["id"] == first["payment"]["id"]
    payments = await _of_subscription(db, Payment, who)
    assert len(payments) == 1


async def test_a_timed_out_dues_charge_is_pending_then_settled_by_reconcile(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, status=SubscriptionStatus.ON_HOLD, dues=1000)
    card = await world.card(who.account, "tok_visa")
    late = _LateProcessor(db, delay=0.2)
    principal = PortalPrincipal("s", PortalScope.BUSINESS, who.account.email_normalized,
                                who.business.id, who.account.id)  # fmt: skip
    with pytest.raises(ConflictError) as pending:
        await card_updates.update_payment_method(
            db, TimedProcessor(late, 0.05), RateLimits(Settings(database_url=db.url)),
            Actor(principal), subscription_id=who.subscription.id, payment_method_id=card.id,
            token=None, idempotency_key=None,
        )  # fmt: skip
    assert pending.value.code == "PAYMENT_PENDING"  # not a decline: the charge may land
    (subscription,) = await _of_subscription(db, Subscription, who)
    assert subscription.status is SubscriptionStatus.ON_HOLD
    assert late.late is not None
    await late.late  # it lands
    await reconcile_pending_payments(db, late, older_than=timedelta(0))
    (subscription,) = await _of_subscription(db, Subscription, who)
    assert (subscription.status, subscription.dues_minor) == (SubscriptionStatus.ACTIVE, 0)
    assert subscription.payment_method_id == card.id
    (payment,) = await _of_subscription(db, Payment, who)
    (invoice,) = await _of_subscription(db, Invoice, who)
    assert (payment.status, payment.invoice_id, invoice.total_minor) == (
        PaymentStatus.SUCCEEDED, invoice.id, 1000,
    )  # fmt: skip
