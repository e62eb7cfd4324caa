"""The whole life of a subscription, as its customer lives it through the API, with the clock
moved (never slept): renewed, declined and put on hold, paid up with a new card, renewed on
that card, and cancelled at the period end. On both databases, PostgreSQL included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal_gateway.core import clock
from portal_gateway.db import Database
from portal_gateway.models import Invoice, Payment
from portal_gateway.models.enums import PaymentStatus
from portal_gateway.payments.test_processor import TestProcessor
from portal_gateway.services.renewals import renew_due
from tests.api import Api, token_of
from tests.factories import World, gid, unique_email
from tests.mail import Mailbox, link_in
from tests.test_subscriptions import _rows

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

SUBSCRIPTION = """query($id: ID!) { node(id: $id) { ... on Subscription {
  status nextBillingDate cancelAtPeriodEnd outstandingAmount { amount currency }
  paymentMethod { last4 }
  invoices { totalCount edges { node { number status total { amount } } } } } } }"""

UPDATE_CARD = """mutation($input: UpdatePaymentMethodInput!) { updatePaymentMethod(input: $input) {
  __typename
  ... on UpdatePaymentMethodSuccess { reactivated subscription { status }
      invoice { id total { amount currency } } payment { id status amount { amount } } }
  ... on PaymentFailedError { declineCode payment { status failureCode } }
  ... on Error { code message }
} }"""

CANCEL = """mutation($id: ID!) { cancelSubscription(input: {subscriptionId: $id, atPeriodEnd: true})
  { __typename } }"""


async def test_the_whole_life_of_a_subscription(
    world: World, api: Api, db: Database, mailbox: Mailbox
) -> None:
    clock.freeze(START)
    business = await world.business(tax_rate_bps=1900)
    account = await world.account(business, unique_email("life"))
    plan = await world.product(business, 1200, "EUR", name="Plus", taxable=True)
    card = await world.card(account, "tok_insufficient_funds")
    subscription = await world.subscription(account, plan, payment_method=card)
    subscription_id = gid("Subscription", subscription.id)
    processor = TestProcessor(db, live=False)

    async def state(token: str) -> dict[str, Any]:
        body = await api.gql(SUBSCRIPTION, {"id": subscription_id}, token=token)
        node: dict[str, Any] = body["data"]["node"]
        return node

    async def payments() -> list[Payment]:
        return await _rows(
            db,
            select(Payment)
            .where(Payment.subscription_id == subscription.id)
            .order_by(Payment.created_at),
        )

    # The period ends; the renewal is declined: ON_HOLD with the period's amount as dues.
    clock.freeze(subscription.current_period_end + timedelta(minutes=1))
    await renew_due(db, processor)
    await mailbox.deliver()
    (notice,) = mailbox.messages(to=account.email)
    assert str(notice["Subject"]).endswith("is on hold")
    # The customer follows the email's link: signed in, on this subscription's card update.
    signed_in = await api.sign_in(token_of(link_in(notice)))
    assert signed_in["flow"] == {
        "type": "PAYMENT_METHOD_UPDATE", "subscription": {"id": subscription_id},
    }  # fmt: skip
    token = signed_in["accessToken"]
    held = await state(token)
    assert held["status"] == "ON_HOLD"
    assert held["outstandingAmount"] == {"amount": "14.28", "currency": "EUR"}
    assert held["invoices"]["totalCount"] == 0  # a decline issues no invoice

    # A card that declines: still on hold, the same dues, and the decline said.
    declined = await _update(api, token, subscription_id, "tok_declined")
    assert declined["__typename"] == "PaymentFailedError"
    assert declined["declineCode"] == "card_declined"
    assert (await state(token))["outstandingAmount"] == {"amount": "14.28", "currency": "EUR"}
    assert (await state(token))["status"] == "ON_HOLD"

    # A card that pays: the dues charged at once, one invoice for exactly them, ACTIVE again.
    clock.advance(timedelta(hours=1))
    paid = await _update(api, token, subscription_id, "tok_visa")
    assert paid["__typename"] == "UpdatePaymentMethodSuccess"
    assert paid["reactivated"] is True
    assert paid["subscription"] == {"status": "ACTIVE"}
    assert paid["invoice"]["total"] == {"amount": "14.28", "currency": "EUR"}
    assert paid["payment"]["status"] == "SUCCEEDED"
    assert paid["payment"]["amount"] == {"amount": "14.28"}
    active = await state(token)
    assert active["outstandingAmount"] == {"amount": "0.00", "currency": "EUR"}
    assert active["paymentMethod"] == {"last4": "4242"}
    assert active["invoices"]["totalCount"] == 1
    assert [p.status for p in await payments()] == [
        PaymentStatus.FAILED, PaymentStatus.FAILED, PaymentStatus.SUCCEEDED,
    ]  # fmt: skip
    await mailbox.deliver()
    subjects = [str(m["Subject"]) for m in mailbox.messages(to=account.email)]
    assert any(s.startswith("Receipt for your payment") for s in subjects), subjects
    assert any(s.endswith("is active again") for s in subjects), subjects

    # The next renewal charges the new card.
    next_billing = datetime.fromisoformat(active["nextBillingDate"])
    assert next_billing == clock.now() + timedelta(days=31)  # a month from the payment
    clock.freeze(next_billing + timedelta(minutes=1))
    await renew_due(db, processor)
    token = await api.session_for(business, account)  # a month on: a new visit
    renewed = await state(token)
    assert renewed["status"] == "ACTIVE"
    assert renewed["invoices"]["totalCount"] == 2
    last = (await payments())[-1]
    assert (last.status, last.amount_minor, last.payment_method_id) == (
        PaymentStatus.SUCCEEDED, 1428, paid_card_id(await payments()),
    )  # fmt: skip

    # Cancelled at the period end: CANCELLED at the renewal, and not charged.
    cancel = await api.gql(CANCEL, {"id": subscription_id}, token=token)
    assert cancel["data"]["cancelSubscription"]["__typename"] == "CancelSubscriptionSuccess"
    clock.freeze(datetime.fromisoformat(renewed["nextBillingDate"]) + timedelta(minutes=1))
    charged_before = len(await payments())
    await renew_due(db, processor)
    token = await api.session_for(business, account)
    assert (await state(token))["status"] == "CANCELLED"
    assert len(await payments()) == charged_before
    invoices = await _rows(db, select(Invoice).where(Invoice.subscription_id == subscription.id))
    assert sorted(i.total_minor for i in invoices) == [1428, 1428]


def paid_card_id(payments: list[Payment]) -> str | None:
    """The card of the payment that paid the dues."""
    return next(p.payment_method_id for p in payments if p.purpose == "dues" and p.invoice_id)


async def _update(api: Api, token: str, subscription_id: str, card: str) -> dict[str, Any]:
    body = await api.gql(
        UPDATE_CARD, {"input": {"subscriptionId": subscription_id, "token": card}}, token=token
    )
    result: dict[str, Any] = body["data"]["updatePaymentMethod"]
    return result
