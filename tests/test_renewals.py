"""Renewals: each period charged once on the subscription's card, or the subscription put on
hold with its dues at a decline; ended at the period end when the customer asked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from portal_gateway.core import clock
from portal_gateway.db import Database
from portal_gateway.models import (
    CreditBalance,
    CustomerAccount,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentMethod,
    RenewalClaim,
    Subscription,
)
from portal_gateway.models.enums import (
    PaymentStatus,
    RenewalStatus,
    SubscriptionStatus,
)
from portal_gateway.payments.processor import ChargeResult, TimedProcessor
from portal_gateway.payments.test_processor import TestProcessor
from portal_gateway.services import renewals
from portal_gateway.services.reconciliation import reconcile_pending_payments
from portal_gateway.services.renewals import Outcome, renew_due
from tests.api import Api, token_of
from tests.factories import World, gid
from tests.mail import Mailbox, link_in
from tests.test_subscriptions import Subscriber, _LateProcessor, _rows, _subscriber

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# The factory's period: 10 days in, 20 to go.
PERIOD_END = NOW + timedelta(days=20)


@pytest.fixture(autouse=True)
def _frozen_clock() -> None:
    clock.freeze(NOW)


def _processor(db: Database) -> TestProcessor:
    return TestProcessor(db, live=False)


async def _reload(db: Database, who: Subscriber) -> Subscription:
    (row,) = await _rows(db, select(Subscription).where(Subscription.id == who.subscription.id))
    return row


async def _of(db: Database, model: Any, who: Subscriber) -> list[Any]:
    return await _rows(
        db,
        select(model)
        .where(model.subscription_id == who.subscription.id)
        .order_by(model.sequence if model is Invoice else model.created_at, model.id),
    )


async def test_a_due_subscription_is_charged_for_the_next_period(
    world: World, api: Api, db: Database, mailbox: Mailbox
) -> None:
    who = await _subscriber(world, api, tax_rate_bps=1900)
    clock.freeze(PERIOD_END + timedelta(hours=1))
    run = await renew_due(db, _processor(db))
    assert run.counts[Outcome.RENEWED] >= 1
    subscription = await _reload(db, who)
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert subscription.current_period_start == PERIOD_END
    assert subscription.current_period_end == datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    (payment,) = await _of(db, Payment, who)
    (invoice,) = await _of(db, Invoice, who)
    assert (payment.status, payment.amount_minor, payment.invoice_id) == (
        PaymentStatus.SUCCEEDED, 1190, invoice.id,
    )  # fmt: skip
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (1000, 190, 1190)
    (line,) = await _rows(db, select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    assert (line.period_start, line.period_end) == (
        subscription.current_period_start, subscription.current_period_end,
    )  # fmt: skip
    await mailbox.deliver()
    (receipt,) = mailbox.messages(to=who.account.email)
    assert str(receipt["Subject"]).endswith("renewed")
    body = receipt.get_body(preferencelist=("plain",))
    assert body is not None and invoice.number in body.get_content()


async def test_nothing_is_charged_before_the_period_ends(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    clock.freeze(PERIOD_END - timedelta(seconds=1))
    await renew_due(db, _processor(db))
    assert await _of(db, Payment, who) == []


async def test_a_declined_renewal_puts_it_on_hold_with_dues_and_no_invoice(
    world: World, api: Api, db: Database, mailbox: Mailbox
) -> None:
    who = await _subscriber(world, api, card="tok_insufficient_funds", tax_rate_bps=1900)
    clock.freeze(PERIOD_END + timedelta(minutes=5))
    await renew_due(db, _processor(db))
    subscription = await _reload(db, who)
    assert (subscription.status, subscription.dues_minor) == (SubscriptionStatus.ON_HOLD, 1190)
    assert subscription.last_decline_code == "insufficient_funds"
    (payment,) = await _of(db, Payment, who)
    assert (payment.status, payment.failure_code, payment.invoice_id) == (
        PaymentStatus.FAILED, "insufficient_funds", None,
    )  # fmt: skip
    assert await _of(db, Invoice, who) == []
    # Renewing again changes nothing: an ON_HOLD subscription is not charged again.
    await renew_due(db, _processor(db))
    assert len(await _of(db, Payment, who)) == 1
    # The email's link signs in to this subscription's card update.
    await mailbox.deliver()
    (message,) = mailbox.messages(to=who.account.email)
    assert str(message["Subject"]).endswith("is on hold")
    signed_in = await api.sign_in(token_of(link_in(message)))
    assert signed_in["__typename"] == "SignInSuccess"
    assert signed_in["flow"]["type"] == "PAYMENT_METHOD_UPDATE"
    assert signed_in["flow"]["subscription"]["id"] == who.subscription_id


async def test_a_processor_error_is_retried_by_the_next_run_not_put_on_hold(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, card="tok_processing_error")
    clock.freeze(PERIOD_END + timedelta(minutes=5))
    await renew_due(db, _processor(db))
    subscription = await _reload(db, who)
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert subscription.current_period_end == PERIOD_END  # not renewed, not on hold
    (claim,) = await _of(db, RenewalClaim, who)
    assert (claim.status, claim.attempts) == (RenewalStatus.CLAIMED, 1)
    # A run a minute later leaves it alone: a failing processor is not asked every run.
    clock.freeze(PERIOD_END + timedelta(minutes=6))
    await renew_due(db, _processor(db))
    assert len(await _of(db, Payment, who)) == 1
    # The processor recovers (here: the card behind it charges again).
    visa = await world.card(who.account, "tok_visa")
    async with db.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == who.subscription.id)
            .values(payment_method_id=visa.id)
        )
    clock.freeze(PERIOD_END + timedelta(minutes=10))
    await renew_due(db, _processor(db))
    subscription = await _reload(db, who)
    assert subscription.current_period_start == PERIOD_END
    payments = await _of(db, Payment, who)
    assert [p.status for p in payments] == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    assert len({p.id for p in payments}) == 2  # each attempt its own payment, its own key
    (claim,) = await _of(db, RenewalClaim, who)
    assert (claim.status, claim.attempts, claim.payment_id) == (
        RenewalStatus.RENEWED, 2, payments[1].id,
    )  # fmt: skip


async def test_a_timed_out_renewal_that_never_landed_is_charged_by_a_later_run(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    clock.freeze(PERIOD_END + timedelta(minutes=5))
    late = _LateProcessor(db, delay=0.5)
    await renewals.renew_subscription(db, TimedProcessor(late, 0.05), who.subscription.id)
    (payment,) = await _of(db, Payment, who)
    assert payment.status is PaymentStatus.PENDING
    # Reconcile voids the key before the charge arrives: nothing was charged.
    await reconcile_pending_payments(db, late, older_than=timedelta(0))
    assert late.late is not None
    await late.late
    subscription = await _reload(db, who)
    assert (subscription.status, subscription.current_period_end) == (
        SubscriptionStatus.ACTIVE, PERIOD_END,
    )  # fmt: skip
    clock.freeze(PERIOD_END + timedelta(minutes=10))
    await renew_due(db, _processor(db))
    payments = await _of(db, Payment, who)
    assert [(p.status, p.failure_code) for p in payments] == [
        (PaymentStatus.FAILED, "not_charged"), (PaymentStatus.SUCCEEDED, None),
    ]  # fmt: skip
    assert (await _reload(db, who)).current_period_start == PERIOD_END


async def test_running_twice_or_twice_at_once_charges_each_period_once(
    world: World, api: Api, db: Database
) -> None:
    first = await _subscriber(world, api)
    second = await _subscriber(world, api)
    clock.freeze(PERIOD_END + timedelta(minutes=5))
    await asyncio.gather(renew_due(db, _processor(db)), renew_due(db, _processor(db)))
    await renew_due(db, _processor(db))
    for who in (first, second):
        payments = await _of(db, Payment, who)
        assert [p.status for p in payments] == [PaymentStatus.SUCCEEDED]
        assert len(await _of(db, Invoice, who)) == 1
        assert (await _reload(db, who)).current_period_start == PERIOD_END


async def test_three_periods_behind_renews_three_times(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    ends = [
        PERIOD_END,
        datetime(2027, 1, 10, 12, tzinfo=UTC),
        datetime(2027, 2, 10, 12, tzinfo=UTC),
    ]
    clock.freeze(ends[2] + timedelta(days=1))  # the server was down for two months
    await renew_due(db, _processor(db))
    invoices = await _of(db, Invoice, who)
    assert [i.sequence for i in invoices] == [1, 2, 3]
    lines = [
        (await _rows(db, select(InvoiceLine).where(InvoiceLine.invoice_id == i.id)))[0]
        for i in invoices
    ]
    assert [line.period_start for line in lines] == ends
    payments = await _of(db, Payment, who)
    assert [p.status for p in payments] == [PaymentStatus.SUCCEEDED] * 3
    subscription = await _reload(db, who)
    assert subscription.current_period_end == datetime(2027, 3, 10, 12, tzinfo=UTC)


async def test_many_periods_behind_stop_at_the_first_decline(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, card="tok_declined")
    clock.freeze(PERIOD_END + timedelta(days=70))
    await renew_due(db, _processor(db))
    subscription = await _reload(db, who)
    assert (subscription.status, subscription.dues_minor) == (SubscriptionStatus.ON_HOLD, 1000)
    assert len(await _of(db, Payment, who)) == 1


async def test_cancel_at_period_end_cancels_at_the_renewal_without_a_charge(
    world: World, api: Api, db: Database, mailbox: Mailbox
) -> None:
    who = await _subscriber(world, api)
    async with db.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == who.subscription.id)
            .values(cancel_at_period_end=True)
        )
    clock.freeze(PERIOD_END + timedelta(minutes=1))
    await renew_due(db, _processor(db))
    subscription = await _reload(db, who)
    assert (subscription.status, subscription.cancelled_at) == (
        SubscriptionStatus.CANCELLED, PERIOD_END,
    )  # fmt: skip
    assert await _of(db, Payment, who) == []
    await mailbox.deliver()
    (message,) = mailbox.messages(to=who.account.email)
    assert str(message["Subject"]).endswith("has ended")


async def test_a_fixed_term_expires_at_its_end(world: World, api: Api, db: Database) -> None:
    who = await _subscriber(world, api)
    async with db.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == who.subscription.id)
            .values(ends_at=PERIOD_END)
        )
    clock.freeze(PERIOD_END + timedelta(minutes=1))
    await renew_due(db, _processor(db))
    assert (await _reload(db, who)).status is SubscriptionStatus.EXPIRED
    assert await _of(db, Payment, who) == []


async def test_credit_in_the_currency_is_used_first(world: World, api: Api, db: Database) -> None:
    who = await _subscriber(world, api)
    await world.add(
        CreditBalance(
            business_id=who.business.id, account_id=who.account.id, currency="USD",
            amount_minor=300,
        )
    )  # fmt: skip
    clock.freeze(PERIOD_END + timedelta(minutes=1))
    await renew_due(db, _processor(db))
    (payment,) = await _of(db, Payment, who)
    (invoice,) = await _of(db, Invoice, who)
    assert (payment.amount_minor, invoice.total_minor, invoice.credit_applied_minor) == (
        700, 1000, 300,
    )  # fmt: skip
    balance = await _rows(
        db, select(CreditBalance.amount_minor).where(CreditBalance.account_id == who.account.id)
    )
    assert balance in ([], [0])


async def test_invoice_numbers_stay_gapless_across_renewals_and_reactivations(
    world: World, api: Api, db: Database
) -> None:
    first = await _subscriber(world, api)
    business = first.business
    others: list[tuple[CustomerAccount, Subscription]] = []
    for index in range(5):
        account = await world.account(business, f"other{index}-{first.account.email}")
        card = await world.card(account, "tok_visa" if index % 2 else "tok_declined")
        status = SubscriptionStatus.ACTIVE if index < 3 else SubscriptionStatus.ON_HOLD
        product = first.plans["Basic"]
        subscription = await world.subscription(
            account, product, status, payment_method=card, dues=1000
        )
        others.append((account, subscription))
    on_hold = [pair for pair in others if pair[1].status is SubscriptionStatus.ON_HOLD]
    clock.freeze(PERIOD_END + timedelta(minutes=1))

    async def reactivate(account: CustomerAccount, subscription: Subscription) -> None:
        visa = await world.card(account, "tok_visa")
        token = await api.session_for(business, account)
        await api.gql(
            """mutation($input: UpdatePaymentMethodInput!) {
                 updatePaymentMethod(input: $input) { __typename } }""",
            {
                "input": {
                    "subscriptionId": gid("Subscription", subscription.id),
                    "paymentMethodId": gid("PaymentMethod", visa.id),
                }
            },
            token=token,
        )

    await asyncio.gather(
        renew_due(db, _processor(db)),
        renew_due(db, _processor(db)),
        *(reactivate(account, subscription) for account, subscription in on_hold),
    )
    invoices = await _rows(
        db, select(Invoice).where(Invoice.business_id == business.id).order_by(Invoice.sequence)
    )
    assert [i.sequence for i in invoices] == list(range(1, len(invoices) + 1))
    # first, the two ACTIVE on visa (index 1; index 0 and 2 decline), and the two reactivated
    assert len(invoices) == 1 + 1 + 2


class _BrokenFor(TestProcessor):
    """A processor whose charge of one card raises something no one expected."""

    def __init__(self, db: Database, broken_ref: str) -> None:
        super().__init__(db, live=False)
        self.broken_ref = broken_ref

    async def charge(
        self, payment_method_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        if payment_method_ref == self.broken_ref:
            raise RuntimeError("the processor's client library broke")
        return await super().charge(payment_method_ref, amount_minor, currency, idempotency_key)


async def test_one_subscription_that_breaks_does_not_stop_the_others(
    world: World, api: Api, db: Database
) -> None:
    broken = await _subscriber(world, api)
    fine = await _subscriber(world, api)
    (card,) = await _rows(
        db, select(PaymentMethod).where(PaymentMethod.id == broken.subscription.payment_method_id)
    )
    clock.freeze(PERIOD_END + timedelta(minutes=1))
    run = await renew_due(db, _BrokenFor(db, card.processor_ref))
    assert run.counts.get(Outcome.RETRY) == 1
    assert (await _reload(db, fine)).current_period_start == PERIOD_END
    # The broken one's charge is left PENDING for reconcile, which settles it by the processor.
    (pending,) = await _of(db, Payment, broken)
    assert pending.status is PaymentStatus.PENDING
