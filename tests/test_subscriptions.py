"""Managing subscriptions through the portal: cancel, resume, change plan, billing details."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from portal_gateway.auth.principal import PortalPrincipal
from portal_gateway.core import clock
from portal_gateway.core.errors import ConflictError
from portal_gateway.core.ids import decode_global_id
from portal_gateway.db import Database
from portal_gateway.models import (
    AuditEvent,
    Business,
    CustomerAccount,
    Invoice,
    OutboxMessage,
    Payment,
    Subscription,
)
from portal_gateway.models.enums import (
    PaymentStatus,
    PortalScope,
    ProductType,
    SubscriptionStatus,
)
from portal_gateway.payments.processor import ChargeOutcome, ChargeResult, TimedProcessor
from portal_gateway.payments.test_processor import TestProcessor, TestProcessorCharge
from portal_gateway.services import plan_changes
from portal_gateway.services.charges import PendingCharge
from portal_gateway.services.reconciliation import reconcile_pending_payments
from portal_gateway.services.unit_of_work import Actor
from tests.api import Api
from tests.factories import Merchant, World, gid, unique_email

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

CHANGE = """mutation($input: ChangePlanInput!) { changePlan(input: $input) {
  __typename
  ... on ChangePlanSuccess { direction subscription { id recurringPrice { amount currency }
      product { name } } invoice { id number total { amount } lines { amount { amount }
      proration } } payment { id status amount { amount currency } } }
  ... on PaymentFailedError { code declineCode payment { id status failureCode } }
  ... on PlanChangeNotAllowedError { code reason }
  ... on InvalidStateError { code status }
  ... on Error { code message }
} }"""

CANCEL = """mutation($input: CancelSubscriptionInput!) { cancelSubscription(input: $input) {
  __typename
  ... on CancelSubscriptionSuccess { subscription { status cancelAtPeriodEnd cancelledAt
      nextBillingDate outstandingAmount { amount } } }
  ... on InvalidStateError { code status }
  ... on Error { code message }
} }"""

UPDATE = """mutation($input: UpdateBillingDetailsInput!) { updateBillingDetails(input: $input) {
  __typename
  ... on UpdateBillingDetailsSuccess { account { name phone billingAddress { line1 line2 city
      state postalCode country } } }
  ... on InvalidInputError { code field }
  ... on Error { code }
} }"""

RESUME = """mutation($id: ID!) { resumeSubscription(input: {subscriptionId: $id}) {
  __typename
  ... on ResumeSubscriptionSuccess { subscription { status cancelAtPeriodEnd nextBillingDate } }
  ... on InvalidStateError { code status }
  ... on Error { code }
} }"""


@dataclass
class Subscriber:
    business: Merchant
    account: CustomerAccount
    subscription: Subscription
    plans: dict[str, Any]
    token: str

    @property
    def subscription_id(self) -> str:
        return gid("Subscription", self.subscription.id)

    def plan(self, name: str) -> str:
        return gid("Product", self.plans[name].id)


@pytest.fixture(autouse=True)
def _frozen_clock() -> None:
    clock.freeze(NOW)


async def _subscriber(
    world: World,
    api: Api,
    *,
    card: str = "tok_visa",
    currency: str = "USD",
    prices: tuple[int, int, int] = (1000, 3000, 500),
    tax_rate_bps: int = 0,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    start_on: str = "Basic",
    dues: int = 0,
) -> Subscriber:
    """A customer on Basic of a three-plan collection, 10 days into a 30-day period."""
    business = await world.business(tax_rate_bps=tax_rate_bps)
    account = await world.account(business, unique_email("sub"))
    collection = await world.collection(business)
    plans = {
        name: await world.product(
            business, price, currency, name=name, collection=collection, taxable=tax_rate_bps > 0
        )
        for name, price in zip(("Basic", "Pro", "Mini"), prices, strict=True)
    }
    method = await world.card(account, card)
    subscription = await world.subscription(
        account, plans[start_on], status, payment_method=method, dues=dues
    )
    token = await api.session_for(business, account)
    return Subscriber(business, account, subscription, plans, token)


async def _change(
    world: World, api: Api, who: Subscriber, plan: str, key: str | None = None
) -> dict[str, Any]:
    body = await api.gql(
        CHANGE,
        {"input": {"subscriptionId": who.subscription_id, "productId": who.plan(plan),
                   "idempotencyKey": key}},
        token=who.token,
    )  # fmt: skip
    result: dict[str, Any] = body["data"]["changePlan"]
    return result


async def _rows(db: Database, stmt: Any) -> list[Any]:
    async with db.read_sessions() as session:
        return list((await session.scalars(stmt)).all())


async def _charges_for(db: Database, payment_gid: str) -> list[TestProcessorCharge]:
    """The test processor's ledger entries for a payment (keyed by the payment's own id)."""
    decoded = decode_global_id(payment_gid)
    assert decoded is not None and decoded[0] == "Payment"
    return await _rows(
        db, select(TestProcessorCharge).where(TestProcessorCharge.idempotency_key == decoded[1])
    )


# ---- plan changes ----


async def test_upgrade_charges_the_prorated_difference_at_once(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    result = await _change(world, api, who, "Pro")
    assert result["__typename"] == "ChangePlanSuccess"
    assert result["direction"] == "UPGRADE"
    assert result["subscription"]["product"] == {"name": "Pro"}
    assert result["subscription"]["recurringPrice"] == {"amount": "30.00", "currency": "USD"}
    # 20 of 30 days left: -round(10.00 * 2/3) + round(30.00 * 2/3) = -6.67 + 20.00
    assert result["payment"] == {
        "id": result["payment"]["id"], "status": "SUCCEEDED",
        "amount": {"amount": "13.33", "currency": "USD"},
    }  # fmt: skip
    invoice = result["invoice"]
    assert invoice["total"] == {"amount": "13.33"}
    assert invoice["lines"] == [
        {"amount": {"amount": "-6.67"}, "proration": True},
        {"amount": {"amount": "20.00"}, "proration": True},
    ]
    business = await _rows(db, select(Business).where(Business.id == who.business.id))
    assert invoice["number"] == f"{business[0].invoice_prefix}-2026-000001"
    # The period end stays.
    subscription = await _rows(
        db, select(Subscription).where(Subscription.id == who.subscription.id)
    )
    assert subscription[0].current_period_end == who.subscription.current_period_end


async def test_upgrade_with_tax_charges_tax_per_line(world: World, api: Api) -> None:
    who = await _subscriber(world, api, tax_rate_bps=1900)
    result = await _change(world, api, who, "Pro")
    # (-667 - 127) + (2000 + 380) = 1586
    assert result["payment"]["amount"] == {"amount": "15.86", "currency": "USD"}


@pytest.mark.parametrize(
    ("currency", "prices", "charged"),
    [("JPY", (500, 1200, 100), "467"), ("KWD", (1500, 4250, 100), "1.833")],
)
async def test_upgrade_in_zero_and_three_decimal_currencies(
    world: World, api: Api, currency: str, prices: tuple[int, int, int], charged: str
) -> None:
    who = await _subscriber(world, api, currency=currency, prices=prices)
    result = await _change(world, api, who, "Pro")
    # JPY: -333 + 800 = 467; KWD: -1000 + 2833 = 1833 (1.833)
    assert result["payment"]["amount"] == {"amount": charged, "currency": currency}


async def test_downgrade_credits_the_account_and_later_invoices_use_it(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, start_on="Pro")
    down = await _change(world, api, who, "Basic")
    assert down["__typename"] == "ChangePlanSuccess"
    assert (down["direction"], down["invoice"], down["payment"]) == ("DOWNGRADE", None, None)
    balances = await api.gql(
        "{ viewer { accounts { creditBalances { amount currency } } } }", token=who.token
    )
    assert balances["data"]["viewer"]["accounts"][0]["creditBalances"] == [
        {"amount": "13.33", "currency": "USD"}  # -20.00 + 6.67
    ]
    # Back up to Pro: 13.33 due, all of it from the credit; an invoice, and no charge.
    up = await _change(world, api, who, "Pro")
    assert up["direction"] == "UPGRADE"
    assert up["payment"] is None
    assert up["invoice"]["total"] == {"amount": "13.33"}
    balances = await api.gql(
        "{ viewer { accounts { creditBalances { amount } } } }", token=who.token
    )
    assert balances["data"]["viewer"]["accounts"][0]["creditBalances"] == []
    assert (
        await _rows(db, select(Payment).where(Payment.subscription_id == who.subscription.id)) == []
    )


async def test_preview_says_what_the_change_costs_and_changes_nothing(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    query = """query($id: ID!, $p: ID!) { node(id: $id) { ... on Subscription {
        planChangePreview(productId: $p) { __typename
          ... on PlanChangePreview { direction amountDueNow { amount } creditIssued { amount }
                newRecurringPrice { amount } nextBillingDate product { name } }
          ... on PlanChangeNotAllowedError { reason } } } } }"""
    body = await api.gql(query, {"id": who.subscription_id, "p": who.plan("Pro")}, token=who.token)
    preview = body["data"]["node"]["planChangePreview"]
    assert preview["direction"] == "UPGRADE"
    assert preview["amountDueNow"] == {"amount": "13.33"}
    assert preview["creditIssued"] == {"amount": "0.00"}
    assert preview["newRecurringPrice"] == {"amount": "30.00"}
    assert preview["product"] == {"name": "Pro"}
    down = await api.gql(query, {"id": who.subscription_id, "p": who.plan("Mini")}, token=who.token)
    # Each line rounded on its own: -round(6.666…) + round(3.333…) = -6.67 + 3.33 = -3.34
    assert down["data"]["node"]["planChangePreview"]["creditIssued"] == {"amount": "3.34"}
    same = await api.gql(
        query, {"id": who.subscription_id, "p": who.plan("Basic")}, token=who.token
    )
    assert same["data"]["node"]["planChangePreview"] == {
        "__typename": "PlanChangeNotAllowedError", "reason": "SAME_PRODUCT"
    }  # fmt: skip
    assert (
        await _rows(db, select(Payment).where(Payment.subscription_id == who.subscription.id)) == []
    )
    result = await _change(world, api, who, "Pro")
    assert result["payment"]["amount"]["amount"] == preview["amountDueNow"]["amount"]


async def test_declined_upgrade_changes_nothing_but_one_failed_payment(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, card="tok_insufficient_funds")
    result = await _change(world, api, who, "Pro")
    assert result["__typename"] == "PaymentFailedError"
    assert result["code"] == "PAYMENT_FAILED"
    assert result["declineCode"] == "insufficient_funds"
    assert result["payment"]["status"] == "FAILED"
    payments = await _rows(
        db, select(Payment).where(Payment.subscription_id == who.subscription.id)
    )
    assert [(p.status, p.failure_code) for p in payments] == [
        (PaymentStatus.FAILED, "insufficient_funds")
    ]
    subscription = (
        await _rows(db, select(Subscription).where(Subscription.id == who.subscription.id))
    )[0]
    assert subscription.product_id == who.plans["Basic"].id
    assert (
        await _rows(db, select(Invoice).where(Invoice.subscription_id == who.subscription.id)) == []
    )
    business = (await _rows(db, select(Business).where(Business.id == who.business.id)))[0]
    assert business.invoice_sequence == 0  # no number was used up


async def test_a_processor_error_charges_nothing_and_can_be_retried(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api, card="tok_processing_error")
    first = await _change(world, api, who, "Pro", key="attempt-1")
    assert (first["__typename"], first["declineCode"]) == ("PaymentFailedError", "processing_error")
    ledger = await _charges_for(db, first["payment"]["id"])
    assert ledger == []  # the processor took nothing
    second = await _change(world, api, who, "Pro", key="attempt-2")
    assert second["__typename"] == "PaymentFailedError"
    assert second["payment"]["id"] != first["payment"]["id"]


async def test_an_idempotent_retry_returns_the_same_payment(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    first = await _change(world, api, who, "Pro", key="upgrade-1")
    again = await _change(world, api, who, "Pro", key="upgrade-1")
    assert again == first
    assert len(await _charges_for(db, first["payment"]["id"])) == 1  # charged once
    payments = await _rows(
        db, select(Payment).where(Payment.subscription_id == who.subscription.id)
    )
    assert len(payments) == 1
    other = await _change(world, api, who, "Mini", key="upgrade-1")
    assert other["__typename"] == "ConflictError"


async def test_a_declined_result_is_replayed_for_the_same_key(world: World, api: Api) -> None:
    who = await _subscriber(world, api, card="tok_declined")
    first = await _change(world, api, who, "Pro", key="try-1")
    again = await _change(world, api, who, "Pro", key="try-1")
    assert first["__typename"] == again["__typename"] == "PaymentFailedError"
    assert again["payment"]["id"] == first["payment"]["id"]


async def test_a_crash_after_charging_is_settled_by_reconcile_without_a_second_charge(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    principal = PortalPrincipal("s", PortalScope.BUSINESS, who.account.email_normalized,
                                who.business.id, who.account.id)  # fmt: skip
    processor = TestProcessor(db, live=False)
    async with db.transaction() as session:
        pending = await plan_changes.begin_plan_change(
            session, principal, subscription_id=who.subscription.id,
            product_id=who.plans["Pro"].id, idempotency_key=None,
        )  # fmt: skip
    assert isinstance(pending, PendingCharge)
    charged = await processor.charge(
        pending.payment_method_ref, pending.amount_minor, pending.currency, pending.payment_id
    )
    assert charged.charge_ref is not None
    # ... and the process dies here, before the second transaction.
    payment = (await _rows(db, select(Payment).where(Payment.id == pending.payment_id)))[0]
    assert payment.status is PaymentStatus.PENDING
    other = await _change(world, api, who, "Mini")  # the subscription is busy meanwhile
    assert other["__typename"] == "ConflictError"
    settled = await reconcile_pending_payments(db, processor, older_than=timedelta(0))
    assert settled >= 1
    payment = (await _rows(db, select(Payment).where(Payment.id == pending.payment_id)))[0]
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.processor_ref == charged.charge_ref
    assert payment.invoice_id is not None
    subscription = (
        await _rows(db, select(Subscription).where(Subscription.id == who.subscription.id))
    )[0]
    assert subscription.product_id == who.plans["Pro"].id
    ledger = await _rows(
        db, select(TestProcessorCharge).where(TestProcessorCharge.idempotency_key == payment.id)
    )
    assert len(ledger) == 1  # charged once, settled without charging again
    # Reconciling again changes nothing.
    await reconcile_pending_payments(db, processor, older_than=timedelta(0))
    assert (
        len(await _rows(db, select(Invoice).where(Invoice.subscription_id == who.subscription.id)))
        == 1
    )


class _LateProcessor(TestProcessor):
    """A processor whose charge lands `delay` seconds after it was asked, whether or not the
    caller still waits: what a real processor does when the network is slow."""

    def __init__(self, db: Database, delay: float) -> None:
        super().__init__(db, live=False)
        self.delay = delay
        self.late: asyncio.Task[ChargeResult] | None = None

    async def charge(
        self, payment_method_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        async def land() -> ChargeResult:
            await asyncio.sleep(self.delay)
            return await TestProcessor.charge(
                self, payment_method_ref, amount_minor, currency, idempotency_key
            )

        self.late = asyncio.ensure_future(land())
        return await asyncio.shield(self.late)


async def _timed_out_change(
    world: World, api: Api, db: Database, processor: _LateProcessor
) -> tuple[Subscriber, Payment]:
    who = await _subscriber(world, api)
    principal = PortalPrincipal("s", PortalScope.BUSINESS, who.account.email_normalized,
                                who.business.id, who.account.id)  # fmt: skip
    with pytest.raises(ConflictError) as pending:
        await plan_changes.change_plan(
            db, TimedProcessor(processor, 0.05), Actor(principal),
            subscription_id=who.subscription.id, product_id=who.plans["Pro"].id,
            idempotency_key=None,
        )  # fmt: skip
    assert pending.value.code == "PAYMENT_PENDING"  # the truth: not a PaymentFailedError
    (payment,) = await _rows(
        db, select(Payment).where(Payment.subscription_id == who.subscription.id)
    )
    assert payment.status is PaymentStatus.PENDING
    return who, payment


async def test_a_charge_that_lands_after_reconcile_voided_it_is_refused_and_nothing_was_paid(
    world: World, api: Api, db: Database
) -> None:
    processor = _LateProcessor(db, delay=0.5)
    who, payment = await _timed_out_change(world, api, db, processor)
    await reconcile_pending_payments(db, processor, older_than=timedelta(0))
    assert processor.late is not None
    late = await processor.late  # the charge arrives at the processor now: too late
    assert (late.outcome, late.decline_code) == (ChargeOutcome.DECLINED, "voided")
    (ledger,) = await _rows(
        db, select(TestProcessorCharge).where(TestProcessorCharge.idempotency_key == payment.id)
    )
    assert (ledger.outcome, ledger.decline_code) == ("declined", "voided")
    (payment,) = await _rows(db, select(Payment).where(Payment.id == payment.id))
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "not_charged")
    (subscription,) = await _rows(
        db, select(Subscription).where(Subscription.id == who.subscription.id)
    )
    assert subscription.product_id == who.plans["Basic"].id


async def test_a_charge_that_landed_before_reconcile_is_recorded_once_as_paid(
    world: World, api: Api, db: Database
) -> None:
    processor = _LateProcessor(db, delay=0.2)
    who, payment = await _timed_out_change(world, api, db, processor)
    assert processor.late is not None
    landed = await processor.late
    assert landed.outcome is ChargeOutcome.SUCCEEDED
    await reconcile_pending_payments(db, processor, older_than=timedelta(0))
    await reconcile_pending_payments(db, processor, older_than=timedelta(0))  # changes nothing
    ledger = await _rows(
        db, select(TestProcessorCharge).where(TestProcessorCharge.idempotency_key == payment.id)
    )
    assert [(row.outcome, row.charge_ref) for row in ledger] == [("succeeded", landed.charge_ref)]
    (payment,) = await _rows(db, select(Payment).where(Payment.id == payment.id))
    assert (payment.status, payment.processor_ref) == (PaymentStatus.SUCCEEDED, landed.charge_ref)
    (subscription,) = await _rows(
        db, select(Subscription).where(Subscription.id == who.subscription.id)
    )
    assert subscription.product_id == who.plans["Pro"].id
    invoices = await _rows(
        db, select(Invoice).where(Invoice.subscription_id == who.subscription.id)
    )
    assert len(invoices) == 1


async def test_a_charge_that_never_reached_the_processor_is_settled_as_failed(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    principal = PortalPrincipal("s", PortalScope.BUSINESS, who.account.email_normalized,
                                who.business.id, who.account.id)  # fmt: skip
    async with db.transaction() as session:
        pending = await plan_changes.begin_plan_change(
            session, principal, subscription_id=who.subscription.id,
            product_id=who.plans["Pro"].id, idempotency_key=None,
        )  # fmt: skip
    assert isinstance(pending, PendingCharge)
    await reconcile_pending_payments(db, TestProcessor(db, live=False), older_than=timedelta(0))
    payment = (await _rows(db, select(Payment).where(Payment.id == pending.payment_id)))[0]
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "not_charged")
    # The subscription is free again: the change can now be made for real.
    assert (await _change(world, api, who, "Pro"))["__typename"] == "ChangePlanSuccess"


async def test_ten_concurrent_plan_changes_charge_once(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    results = await asyncio.gather(
        *(_change(world, api, who, "Pro", key=f"k{n}") for n in range(10))
    )
    kinds = sorted(r["__typename"] for r in results)
    assert kinds.count("ChangePlanSuccess") == 1, kinds
    assert set(kinds) <= {"ChangePlanSuccess", "ConflictError", "PlanChangeNotAllowedError"}
    payments = await _rows(
        db, select(Payment).where(Payment.subscription_id == who.subscription.id)
    )
    assert [p.status for p in payments] == [PaymentStatus.SUCCEEDED]
    ledger = await _rows(
        db, select(TestProcessorCharge).where(TestProcessorCharge.idempotency_key == payments[0].id)
    )
    assert len(ledger) == 1


async def test_a_plan_change_and_a_cancel_at_once_do_not_both_apply(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    change, cancel = await asyncio.gather(
        _change(world, api, who, "Pro"),
        api.gql(CANCEL, {"input": {"subscriptionId": who.subscription_id, "atPeriodEnd": False}},
                  token=who.token),
    )  # fmt: skip
    cancelled = cancel["data"]["cancelSubscription"]
    subscription = (
        await _rows(db, select(Subscription).where(Subscription.id == who.subscription.id))
    )[0]
    if change["__typename"] == "ChangePlanSuccess":
        # The cancel came after the change (it sees the new plan) or lost the race.
        assert cancelled["__typename"] in ("CancelSubscriptionSuccess", "ConflictError")
    else:
        assert cancelled["__typename"] == "CancelSubscriptionSuccess"
        assert change["__typename"] in ("InvalidStateError", "ConflictError")
        assert subscription.product_id == who.plans["Basic"].id
    payments = await _rows(
        db, select(Payment).where(Payment.subscription_id == who.subscription.id)
    )
    successful = [p for p in payments if p.status is PaymentStatus.SUCCEEDED]
    assert len(successful) <= 1


async def test_invoice_numbers_have_no_gaps_or_duplicates_under_concurrent_charges(
    world: World, api: Api, db: Database
) -> None:
    business = await world.business()
    collection = await world.collection(business)
    basic = await world.product(business, 1000, name="Basic", collection=collection)
    pro = await world.product(business, 3000, name="Pro", collection=collection)
    tokens, subscription_ids = [], []
    for _ in range(8):
        account = await world.account(business, unique_email("seq"))
        card = await world.card(account)
        subscription = await world.subscription(account, basic, payment_method=card)
        tokens.append(await api.session_for(business, account))
        subscription_ids.append(gid("Subscription", subscription.id))
    results = await asyncio.gather(
        *(
            api.gql(CHANGE, {"input": {"subscriptionId": s, "productId": gid("Product", pro.id)}},
                      token=t)
            for s, t in zip(subscription_ids, tokens, strict=True)
        )
    )  # fmt: skip
    assert all(r["data"]["changePlan"]["__typename"] == "ChangePlanSuccess" for r in results)
    sequences = sorted(
        i.sequence
        for i in await _rows(db, select(Invoice).where(Invoice.business_id == business.id))
    )
    assert sequences == list(range(1, 9))


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("Basic", "SAME_PRODUCT"),
        ("Elsewhere", "DIFFERENT_COLLECTION"),
        ("Euro", "DIFFERENT_CURRENCY_OR_INTERVAL"),
        ("Once", "NOT_A_SUBSCRIPTION_PRODUCT"),
    ],
)
async def test_each_reason_a_plan_change_is_not_allowed(
    world: World, api: Api, target: str, reason: str
) -> None:
    who = await _subscriber(world, api)
    collection_id = who.plans["Basic"].collection_id
    from portal_gateway.models import ProductCollection

    collection = ProductCollection(id=collection_id, business_id=who.business.id, name="x")
    who.plans["Elsewhere"] = await world.product(who.business, 2000, name="Elsewhere")
    who.plans["Euro"] = await world.product(
        who.business, 2000, "EUR", name="Euro", collection=collection
    )
    who.plans["Once"] = await world.product(
        who.business, 2000, name="Once", collection=collection, type=ProductType.ONE_TIME
    )
    result = await _change(world, api, who, target)
    assert result == {"__typename": "PlanChangeNotAllowedError", "code": "PLAN_CHANGE_NOT_ALLOWED",
                      "reason": reason, "message": result["message"]}  # fmt: skip


async def test_a_business_can_turn_plan_changes_off(world: World, api: Api) -> None:
    who = await _subscriber(world, api)
    body = await api.gql(
        """mutation { updateBusinessSettings(input: {allowSubscriptionUpdates: false}) {
             ... on UpdateBusinessSettingsSuccess { business { allowSubscriptionUpdates } } } }""",
        token=who.business.api_key,
    )
    assert body["data"]["updateBusinessSettings"]["business"] == {"allowSubscriptionUpdates": False}
    assert (await _change(world, api, who, "Pro"))["reason"] == "DISABLED_BY_BUSINESS"
    options = await api.gql(
        """query($id: ID!) {
             node(id: $id) { ... on Subscription { planChangeOptions { direction } } } }""",
        {"id": who.subscription_id},
        token=who.token,
    )
    assert options["data"]["node"]["planChangeOptions"] == []


@pytest.mark.parametrize("status", [SubscriptionStatus.ON_HOLD, SubscriptionStatus.CANCELLED])
async def test_only_active_subscriptions_change_plans(
    world: World, api: Api, status: SubscriptionStatus
) -> None:
    who = await _subscriber(world, api, status=status, dues=1000)
    result = await _change(world, api, who, "Pro")
    assert (result["__typename"], result["status"]) == ("InvalidStateError", status.value)


# ---- cancel and resume ----


async def test_cancel_at_period_end_keeps_it_active_until_then_and_resume_undoes_it(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    body = await api.gql(
        CANCEL,
        {"input": {"subscriptionId": who.subscription_id, "reason": "Too expensive"}},
        token=who.token,
    )
    subscription = body["data"]["cancelSubscription"]["subscription"]
    assert subscription["status"] == "ACTIVE"
    assert subscription["cancelAtPeriodEnd"] is True
    assert subscription["nextBillingDate"] is None
    stored = (await _rows(db, select(Subscription).where(Subscription.id == who.subscription.id)))[
        0
    ]
    assert stored.cancellation_reason == "Too expensive"
    resumed = await api.gql(RESUME, {"id": who.subscription_id}, token=who.token)
    assert resumed["data"]["resumeSubscription"]["subscription"] == {
        "status": "ACTIVE", "cancelAtPeriodEnd": False,
        "nextBillingDate": who.subscription.current_period_end.isoformat(),
    }  # fmt: skip


async def test_cancel_now_ends_it_at_once_without_refund(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    body = await api.gql(
        CANCEL, {"input": {"subscriptionId": who.subscription_id, "atPeriodEnd": False}},
        token=who.token,
    )  # fmt: skip
    subscription = body["data"]["cancelSubscription"]["subscription"]
    assert subscription["status"] == "CANCELLED"
    assert subscription["cancelledAt"] == NOW.isoformat()
    assert (
        await _rows(db, select(Payment).where(Payment.subscription_id == who.subscription.id)) == []
    )


async def test_cancelling_an_on_hold_subscription_ends_it_now_and_writes_off_dues(
    world: World,
    api: Api,
) -> None:
    who = await _subscriber(world, api, status=SubscriptionStatus.ON_HOLD, dues=1000)
    body = await api.gql(
        CANCEL, {"input": {"subscriptionId": who.subscription_id, "atPeriodEnd": True}},
        token=who.token,
    )  # fmt: skip
    subscription = body["data"]["cancelSubscription"]["subscription"]
    assert subscription["status"] == "CANCELLED"
    assert subscription["outstandingAmount"] == {"amount": "0.00"}


@pytest.mark.parametrize(
    "status",
    [SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED, SubscriptionStatus.FAILED,
     SubscriptionStatus.PENDING],
)  # fmt: skip
async def test_illegal_cancels_and_resumes_are_invalid_state_and_change_nothing(
    world: World, api: Api, db: Database, status: SubscriptionStatus
) -> None:
    who = await _subscriber(world, api, status=status)
    cancel = await api.gql(
        CANCEL, {"input": {"subscriptionId": who.subscription_id, "atPeriodEnd": False}},
        token=who.token,
    )  # fmt: skip
    refused = cancel["data"]["cancelSubscription"]
    assert (refused["__typename"], refused["code"], refused["status"]) == (
        "InvalidStateError", "INVALID_STATE", status.value
    )  # fmt: skip
    resume = await api.gql(RESUME, {"id": who.subscription_id}, token=who.token)
    assert resume["data"]["resumeSubscription"]["__typename"] == "InvalidStateError"
    stored = (await _rows(db, select(Subscription).where(Subscription.id == who.subscription.id)))[
        0
    ]
    assert (stored.status, stored.cancelled_at) == (status, None)


async def test_resuming_what_is_not_scheduled_to_end_is_invalid(world: World, api: Api) -> None:
    who = await _subscriber(world, api)
    resume = await api.gql(RESUME, {"id": who.subscription_id}, token=who.token)
    refused = resume["data"]["resumeSubscription"]
    assert (refused["__typename"], refused["code"], refused["status"]) == (
        "InvalidStateError", "INVALID_STATE", "ACTIVE"
    )  # fmt: skip
    twice = {"input": {"subscriptionId": who.subscription_id}}
    await api.gql(CANCEL, twice, token=who.token)
    again = await api.gql(CANCEL, twice, token=who.token)
    assert again["data"]["cancelSubscription"]["__typename"] == "InvalidStateError"


# ---- scope, principals, audit, email ----


async def test_another_businesss_subscription_is_not_found(world: World, api: Api) -> None:
    mine, theirs = await _subscriber(world, api), await _subscriber(world, api)
    for query, variables in (
        (CANCEL, {"input": {"subscriptionId": theirs.subscription_id}}),
        (RESUME, {"id": theirs.subscription_id}),
        (CHANGE, {"input": {"subscriptionId": theirs.subscription_id,
                            "productId": theirs.plan("Pro")}}),
        (CHANGE, {"input": {"subscriptionId": mine.subscription_id,
                            "productId": theirs.plan("Pro")}}),
        (CANCEL, {"input": {"subscriptionId": "not-an-id"}}),
    ):  # fmt: skip
        body = await api.gql(query, variables, token=mine.token)
        (result,) = body["data"].values()
        assert (result["__typename"], result["code"]) == ("NotFoundError", "NOT_FOUND")


async def test_a_cancellation_reason_too_long_names_the_field_and_changes_nothing(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    body = await api.gql(
        CANCEL.replace("... on Error", "... on InvalidInputError { field } ... on Error"),
        {"input": {"subscriptionId": who.subscription_id, "atPeriodEnd": False,
                   "reason": "r" * 501}},
        token=who.token,
    )  # fmt: skip
    result = body["data"]["cancelSubscription"]
    assert (result["__typename"], result["field"]) == ("InvalidInputError", "reason")
    (subscription,) = await _rows(
        db, select(Subscription).where(Subscription.id == who.subscription.id)
    )
    assert subscription.status is SubscriptionStatus.ACTIVE


async def test_a_malformed_id_is_not_found_before_anything_else_is_checked(
    world: World, api: Api
) -> None:
    """Whatever else is wrong with the input, an id that names nothing is the answer."""
    who = await _subscriber(world, api)
    await _change(world, api, who, "Pro", key="used")
    for query, variables in (
        (CANCEL, {"input": {"subscriptionId": "x", "reason": "r" * 501}}),
        (CHANGE, {"input": {"subscriptionId": who.subscription_id, "productId": "x",
                            "idempotencyKey": "used"}}),
        (UPDATE, {"input": {"accountId": "x", "phone": "not a phone"}}),
    ):  # fmt: skip
        body = await api.gql(query, variables, token=who.token)
        (result,) = body["data"].values()
        assert (result["__typename"], result["code"]) == ("NotFoundError", "NOT_FOUND"), result


async def test_merchant_keys_are_refused_on_customer_mutations(world: World, api: Api) -> None:
    who = await _subscriber(world, api)
    for query, variables in (
        (CANCEL, {"input": {"subscriptionId": who.subscription_id}}),
        (RESUME, {"id": who.subscription_id}),
        (CHANGE, {"input": {"subscriptionId": who.subscription_id, "productId": who.plan("Pro")}}),
        (UPDATE, {"input": {"accountId": gid("CustomerAccount", who.account.id), "name": "M"}}),
    ):
        body = await api.gql(query, variables, token=who.business.api_key, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    settings = await api.gql(
        """mutation {
             updateBusinessSettings(input: {allowSubscriptionUpdates: true}) { __typename } }""",
        token=who.token, expect_errors=True,
    )  # fmt: skip
    assert settings["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_each_mutation_leaves_an_audit_event_and_an_email(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    await _change(world, api, who, "Pro")
    await api.gql(CANCEL, {"input": {"subscriptionId": who.subscription_id}}, token=who.token)
    await api.gql(RESUME, {"id": who.subscription_id}, token=who.token)
    await api.gql(CANCEL, {"input": {"subscriptionId": "x"}}, token=who.token)
    events = await _rows(
        db,
        select(AuditEvent)
        .where(
            AuditEvent.business_id == who.business.id, AuditEvent.principal_type == "portal_session"
        )
        .order_by(AuditEvent.created_at, AuditEvent.id),
    )
    assert sorted((e.action, e.result) for e in events) == sorted([
        ("signIn", "ok"),  # the session recorded as who signed in
        ("changePlan", "ok"), ("changePlan.settle", "ok"), ("cancelSubscription", "ok"),
        ("resumeSubscription", "ok"), ("cancelSubscription", "NOT_FOUND"),
    ])  # fmt: skip
    kinds = await _rows(
        db,
        select(OutboxMessage.kind)
        .where(OutboxMessage.recipient == who.account.email)
        .order_by(OutboxMessage.created_at),
    )
    assert sorted(kinds) == [
        "email:plan_changed", "email:subscription_cancelled", "email:subscription_resumed"
    ]  # fmt: skip


async def test_the_plan_change_email_says_what_was_charged(
    world: World, api: Api, tmp_path: Any
) -> None:
    from tests.conftest import PUBLIC_URL
    from tests.mail import Mailbox

    who = await _subscriber(world, api)
    await _change(world, api, who, "Pro")
    mailbox = Mailbox(world.db, tmp_path / "mail", PUBLIC_URL)
    await mailbox.deliver()
    (message,) = mailbox.messages(to=who.account.email)
    assert message["Subject"].endswith("is now Pro")
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    assert "$13.33" in text.get_content()
    assert "$30.00" in text.get_content()


async def test_payment_counts_stay_single_per_change(world: World, api: Api, db: Database) -> None:
    who = await _subscriber(world, api)
    await _change(world, api, who, "Pro")
    async with db.read_sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Payment)
            .where(Payment.subscription_id == who.subscription.id)
        )
    assert count == 1


# ---- billing details ----


ADDRESS = {"line1": "Unter den Linden 1", "city": "Berlin", "postalCode": "10117", "country": "de"}


async def test_billing_details_are_updated_and_issued_invoices_keep_theirs(
    world: World, api: Api, db: Database
) -> None:
    who = await _subscriber(world, api)
    (old_invoice,) = await world.invoices(who.account, 1)
    body = await api.gql(
        UPDATE,
        {"input": {"accountId": gid("CustomerAccount", who.account.id), "name": "  Erika Muster ",
                   "phone": "+49 30 1234567", "billingAddress": ADDRESS}},
        token=who.token,
    )  # fmt: skip
    account = body["data"]["updateBillingDetails"]["account"]
    assert account == {
        "name": "Erika Muster", "phone": "+49301234567",
        "billingAddress": {"line1": "Unter den Linden 1", "line2": None, "city": "Berlin",
                           "state": None, "postalCode": "10117", "country": "DE"},
    }  # fmt: skip
    invoice = (await _rows(db, select(Invoice).where(Invoice.id == old_invoice.id)))[0]
    assert invoice.billing_name == who.account.name  # as issued
    assert invoice.billing_address_country is None
    new = await _change(world, api, who, "Pro")
    # By id: numbers are unique per business only, and the test database holds many businesses.
    decoded = decode_global_id(new["invoice"]["id"])
    assert decoded is not None
    (issued,) = await _rows(db, select(Invoice).where(Invoice.id == decoded[1]))
    assert (issued.billing_name, issued.billing_address_country) == ("Erika Muster", "DE")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"phone": "030 1234567"}, "phone"),
        ({"phone": "+0301234567"}, "phone"),
        ({"billingAddress": {**ADDRESS, "country": "XX"}}, "billingAddress.country"),
        ({"billingAddress": {**ADDRESS, "country": "DEU"}}, "billingAddress.country"),
        # Reserved, not assigned: no address is in them.
        *(
            ({"billingAddress": {**ADDRESS, "country": code}}, "billingAddress.country")
            for code in ("ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA")
        ),
        ({"billingAddress": {**ADDRESS, "postalCode": None}}, "billingAddress.postalCode"),
        ({"billingAddress": {**ADDRESS, "line1": "  "}}, "billingAddress.line1"),
    ],
)
async def test_bad_billing_details_name_the_field_and_change_nothing(
    world: World, api: Api, db: Database, changes: dict[str, Any], field: str
) -> None:
    who = await _subscriber(world, api)
    body = await api.gql(
        UPDATE,
        {"input": {"accountId": gid("CustomerAccount", who.account.id), "name": "Changed",
                   **changes}},
        token=who.token,
    )  # fmt: skip
    result = body["data"]["updateBillingDetails"]
    assert (result["__typename"], result["field"]) == ("InvalidInputError", field)
    stored = (await _rows(db, select(CustomerAccount).where(CustomerAccount.id == who.account.id)))[
        0
    ]
    assert stored.name == who.account.name


async def test_countries_without_postal_codes_need_none(world: World, api: Api) -> None:
    who = await _subscriber(world, api)
    address = {"line1": "1 Harbour Road", "city": "Hong Kong", "country": "HK"}
    body = await api.gql(
        UPDATE,
        {"input": {"accountId": gid("CustomerAccount", who.account.id), "billingAddress": address}},
        token=who.token,
    )
    assert body["data"]["updateBillingDetails"]["__typename"] == "UpdateBillingDetailsSuccess"


async def test_billing_details_of_another_account_are_not_found(world: World, api: Api) -> None:
    mine, theirs = await _subscriber(world, api), await _subscriber(world, api)
    body = await api.gql(
        UPDATE,
        {"input": {"accountId": gid("CustomerAccount", theirs.account.id), "name": "Hijack"}},
        token=mine.token,
    )
    assert body["data"]["updateBillingDetails"] == {
        "__typename": "NotFoundError",
        "code": "NOT_FOUND",
    }


async def test_kosovo_is_a_billing_country_as_card_processors_take_it(
    world: World, api: Api
) -> None:
    who = await _subscriber(world, api)
    address = {"line1": "Rruga Nënë Tereza 1", "city": "Prishtinë", "postalCode": "10000",
               "country": "XK"}  # fmt: skip
    body = await api.gql(
        UPDATE,
        {"input": {"accountId": gid("CustomerAccount", who.account.id), "billingAddress": address}},
        token=who.token,
    )
    result = body["data"]["updateBillingDetails"]
    assert result["account"]["billingAddress"]["country"] == "XK"
