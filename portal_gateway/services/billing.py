"""Plan changes that move money, in the order that rules out a double charge:

1. one transaction locks the subscription, checks the rules, reserves any credit
   used and commits a PENDING Payment (a partial unique index allows one per
   subscription);
2. the processor is called with the Payment's id as its idempotency key;
3. a second transaction records the outcome: on success the Payment, the Invoice
   and the subscription change together; on a decline a FAILED Payment and
   nothing else.
A PENDING Payment left by a crash is settled by `reconcile`, which asks the
processor what happened to that key; it never charges again.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import Principal
from portal_gateway.auth.scope import scoped
from portal_gateway.core import clock
from portal_gateway.core.errors import ConflictError, NotFoundError, PaymentFailedError
from portal_gateway.core.money import Money
from portal_gateway.models import (
    Business,
    CreditBalance,
    CustomerAccount,
    Payment,
    PaymentMethod,
    Product,
    Subscription,
)
from portal_gateway.models.enums import PaymentStatus, PlanChangeDirection
from portal_gateway.notifications.outbox import Email, queue_email
from portal_gateway.payments.processor import ChargeOutcome, ChargeResult
from portal_gateway.services import idempotency
from portal_gateway.services.invoices import LineDraft, issue_invoice
from portal_gateway.services.plan_changes import check_plan_change
from portal_gateway.services.proration import PlanChangeQuote, quote_plan_change

log = logging.getLogger(__name__)

CHANGE_PLAN = "changePlan"


@dataclass(frozen=True)
class PlanChanged:
    subscription_id: str
    direction: PlanChangeDirection
    invoice_id: str | None
    payment_id: str | None


@dataclass(frozen=True)
class PendingCharge:
    """Step 1 is committed; the caller charges, then calls `settle`."""

    payment_id: str
    payment_method_ref: str
    amount_minor: int
    currency: str


async def locked_subscription(
    session: AsyncSession, principal: Principal, subscription_id: str
) -> Subscription:
    """The subscription in scope, locked for this transaction (a row lock on PostgreSQL;
    SQLite's single writer already serializes)."""
    subscription = await session.scalar(
        scoped(select(Subscription), Subscription, principal)
        .where(Subscription.id == subscription_id)
        .with_for_update()
    )
    if subscription is None:
        raise NotFoundError("No such subscription.")
    return subscription


async def charge_in_flight(session: AsyncSession, subscription_id: str) -> bool:
    found = await session.scalar(
        select(Payment.id).where(
            Payment.subscription_id == subscription_id, Payment.status == PaymentStatus.PENDING
        )
    )
    return found is not None


async def quote_for(
    session: AsyncSession,
    principal: Principal,
    subscription: Subscription,
    product_id: str,
    now: datetime,
) -> tuple[Product, PlanChangeDirection, PlanChangeQuote]:
    """(target product, direction, quote): what moving to `product_id` costs now."""
    target = await session.scalar(
        scoped(select(Product), Product, principal).where(Product.id == product_id)
    )
    if target is None or target.business_id != subscription.business_id:
        raise NotFoundError("No such product.")
    current = await session.get_one(Product, subscription.product_id)
    business = await session.get_one(Business, subscription.business_id)
    balance = await session.scalar(
        select(CreditBalance.amount_minor).where(
            CreditBalance.account_id == subscription.account_id,
            CreditBalance.currency == subscription.currency,
        )
    )
    direction, quote = quote_change(subscription, current, target, business, balance or 0, now)
    return target, direction, quote


def quote_change(
    subscription: Subscription,
    current: Product,
    target: Product,
    business: Business,
    credit_balance_minor: int,
    now: datetime,
) -> tuple[PlanChangeDirection, PlanChangeQuote]:
    """The rules and the price of a move, from rows already loaded (the preview's path)."""
    direction = check_plan_change(subscription, current, target, business)
    quote = quote_plan_change(
        old_name=current.name,
        old_unit_minor=subscription.unit_price_minor,
        new_name=target.name,
        new_unit_minor=target.price_minor,
        quantity=subscription.quantity,
        currency=subscription.currency,
        old_taxable=current.taxable,
        new_taxable=target.taxable,
        tax_rate_bps=business.tax_rate_bps,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        now=now,
        credit_balance_minor=credit_balance_minor,
    )
    return direction, quote


async def begin_plan_change(
    session: AsyncSession,
    principal: Principal,
    *,
    subscription_id: str,
    product_id: str,
    idempotency_key: str | None,
) -> PlanChanged | PendingCharge:
    """Step 1. A change that costs nothing now (a downgrade, or one the credit covers) is
    completed here; one that must be charged leaves a committed PENDING Payment."""
    now = clock.now()
    subscription = await locked_subscription(session, principal, subscription_id)
    if idempotency_key is not None:
        request = {"subscriptionId": subscription_id, "productId": product_id}
        stored = await idempotency.begin(
            session, subscription.account_id, CHANGE_PLAN, idempotency_key, request
        )
        if stored is not None:
            return replay(stored)
    if await charge_in_flight(session, subscription.id):
        raise ConflictError("A charge for this subscription is in progress; try again shortly.")
    target, direction, quote = await quote_for(session, principal, subscription, product_id, now)
    change = _ChangeDetails(target.id, direction.value, quote, idempotency_key)
    if quote.amount_due_minor == 0:
        return await _complete(session, subscription, change, payment=None, now=now)
    method = (
        await session.get(PaymentMethod, subscription.payment_method_id)
        if subscription.payment_method_id
        else None
    )
    if method is None or method.detached_at is not None:
        raise PaymentFailedError(
            "This subscription has no card to charge; add one first.",
            decline_code="no_payment_method",
        )
    await adjust_credit(session, subscription, -quote.credit_used_minor)
    payment = Payment(
        business_id=subscription.business_id,
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        payment_method_id=method.id,
        amount_minor=quote.amount_due_minor,
        currency=quote.currency,
        status=PaymentStatus.PENDING,
        purpose="plan_change",
        details=change.to_json(),
    )
    try:
        async with session.begin_nested():
            session.add(payment)
    except IntegrityError:  # the one-PENDING-per-subscription index: another charge won
        raise ConflictError("A charge for this subscription is in progress.") from None
    return PendingCharge(payment.id, method.processor_ref, payment.amount_minor, payment.currency)


async def settle(
    session: AsyncSession, payment_id: str, result: ChargeResult
) -> PlanChanged | PaymentFailedError:
    """Step 3: record what the processor answered. Settling twice changes nothing."""
    payment = await session.scalar(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    )
    assert payment is not None and payment.subscription_id is not None
    change = _ChangeDetails.from_json(payment.details or {})
    if payment.status is not PaymentStatus.PENDING:
        return _outcome_of(payment, change)
    subscription = await session.scalar(
        select(Subscription).where(Subscription.id == payment.subscription_id).with_for_update()
    )
    assert subscription is not None
    if result.outcome is ChargeOutcome.SUCCEEDED:
        payment.status = PaymentStatus.SUCCEEDED
        payment.processor_ref = result.charge_ref
        return await _complete(session, subscription, change, payment=payment, now=clock.now())
    payment.status = PaymentStatus.FAILED
    payment.failure_code = result.decline_code or "declined"
    payment.failure_message = result.message or "The card was declined."
    await adjust_credit(session, subscription, change.quote.credit_used_minor)  # release
    failure = PaymentFailedError(payment.failure_message, payment.failure_code, payment.id)
    if change.idempotency_key is not None:
        await idempotency.finish(
            session,
            subscription.account_id,
            CHANGE_PLAN,
            change.idempotency_key,
            {"error": failure.code, "payment_id": payment.id, "decline_code": failure.decline_code,
             "message": failure.message},
        )  # fmt: skip
    return failure


async def adjust_credit(session: AsyncSession, subscription: Subscription, delta: int) -> None:
    """Add `delta` (negative: use) to the account's credit in the subscription's currency;
    never below zero, or the change conflicts with another that used the same credit."""
    if delta == 0:
        return
    changed = await session.execute(
        update(CreditBalance)
        .where(
            CreditBalance.account_id == subscription.account_id,
            CreditBalance.currency == subscription.currency,
            CreditBalance.amount_minor + delta >= 0,
        )
        .values(amount_minor=CreditBalance.amount_minor + delta)
        .returning(CreditBalance.id)
    )
    if changed.first() is not None:
        return
    if delta < 0:
        raise ConflictError("The account's credit changed; try again.")
    try:
        async with session.begin_nested():
            session.add(
                CreditBalance(
                    business_id=subscription.business_id,
                    account_id=subscription.account_id,
                    currency=subscription.currency,
                    amount_minor=delta,
                )
            )
    except IntegrityError:  # created meanwhile by another change: add to it
        await adjust_credit(session, subscription, delta)


def replay(stored: dict[str, Any]) -> PlanChanged:
    """The first call's result for a retried idempotency key."""
    if stored.get("error") == PaymentFailedError.code:
        raise PaymentFailedError(
            str(stored.get("message") or "The card was declined."),
            stored.get("decline_code"),
            stored.get("payment_id"),
        )
    return PlanChanged(
        subscription_id=str(stored["subscription_id"]),
        direction=PlanChangeDirection(stored["direction"]),
        invoice_id=stored.get("invoice_id"),
        payment_id=stored.get("payment_id"),
    )


async def _complete(
    session: AsyncSession,
    subscription: Subscription,
    change: _ChangeDetails,
    *,
    payment: Payment | None,
    now: datetime,
) -> PlanChanged:
    quote = change.quote
    account = await session.get_one(CustomerAccount, subscription.account_id)
    business = await session.get_one(Business, subscription.business_id)
    old = await session.get_one(Product, subscription.product_id)
    target = await session.get_one(Product, change.product_id)
    invoice = None
    if quote.total_minor > 0:
        invoice = await issue_invoice(
            session,
            account,
            list(quote.lines),
            currency=quote.currency,
            issued_at=now,
            subscription_id=subscription.id,
            credit_applied_minor=quote.credit_used_minor,
        )
        if payment is not None:
            payment.invoice_id = invoice.id
    if payment is None:
        await adjust_credit(session, subscription, -quote.credit_used_minor)
    await adjust_credit(session, subscription, quote.credit_added_minor)
    subscription.product_id = target.id
    subscription.unit_price_minor = target.price_minor
    await session.flush()
    await queue_email(
        session,
        Email(
            recipient=account.email,
            template="plan_changed",
            locale=account.locale,
            context={
                "name": account.name,
                "business_name": business.name,
                "old_plan": old.name,
                "new_plan": target.name,
                "charged": _amount(quote.amount_due_minor, quote.currency),
                "credit_used": _amount(quote.credit_used_minor, quote.currency),
                "credit_added": _amount(quote.credit_added_minor, quote.currency),
                "recurring": _amount(target.price_minor * subscription.quantity, quote.currency),
                "next_billing_at": subscription.current_period_end.isoformat(),
                "invoice_number": invoice.number if invoice else None,
            },
        ),
    )
    result = PlanChanged(
        subscription.id,
        PlanChangeDirection(change.direction),
        invoice.id if invoice else None,
        payment.id if payment else None,
    )
    if change.idempotency_key is not None:
        await idempotency.finish(
            session,
            subscription.account_id,
            CHANGE_PLAN,
            change.idempotency_key,
            {
                "subscription_id": result.subscription_id,
                "direction": result.direction.value,
                "invoice_id": result.invoice_id,
                "payment_id": result.payment_id,
            },
        )
    return result


def _outcome_of(payment: Payment, change: _ChangeDetails) -> PlanChanged | PaymentFailedError:
    if payment.status is PaymentStatus.SUCCEEDED:
        assert payment.subscription_id is not None
        return PlanChanged(
            payment.subscription_id,
            PlanChangeDirection(change.direction),
            payment.invoice_id,
            payment.id,
        )
    return PaymentFailedError(
        payment.failure_message or "The card was declined.", payment.failure_code, payment.id
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _amount(minor: int, currency: str) -> dict[str, str]:
    return {"amount": str(Money(minor, currency).to_decimal()), "currency": currency}


@dataclass(frozen=True)
class _ChangeDetails:
    """What a PENDING payment pays for, kept on it so that reconcile can finish the work."""

    product_id: str
    direction: str
    quote: PlanChangeQuote
    idempotency_key: str | None

    def to_json(self) -> dict[str, object]:
        quote = self.quote
        return {
            "kind": "plan_change",
            "product_id": self.product_id,
            "direction": self.direction,
            "idempotency_key": self.idempotency_key,
            "currency": quote.currency,
            "amount_due_minor": quote.amount_due_minor,
            "credit_used_minor": quote.credit_used_minor,
            "credit_added_minor": quote.credit_added_minor,
            "lines": [
                {
                    **asdict(line),
                    "period_start": _iso(line.period_start),
                    "period_end": _iso(line.period_end),
                }
                for line in quote.lines
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _ChangeDetails:
        first, second = (
            LineDraft(
                **{
                    **line,
                    "period_start": _from_iso(line["period_start"]),
                    "period_end": _from_iso(line["period_end"]),
                }
            )
            for line in data["lines"]
        )
        quote = PlanChangeQuote(
            (first, second),
            data["currency"],
            data["amount_due_minor"],
            data["credit_used_minor"],
            data["credit_added_minor"],
        )
        return cls(data["product_id"], data["direction"], quote, data.get("idempotency_key"))


async def pending_payments(session: AsyncSession, older_than: timedelta) -> list[str]:
    """PENDING payments older than `older_than`: charges a crash may have left unsettled."""
    cutoff = clock.now() - older_than
    rows = await session.scalars(
        select(Payment.id).where(
            Payment.status == PaymentStatus.PENDING, Payment.created_at <= cutoff
        )
    )
    return list(rows)


def unseen_charge() -> ChargeResult:
    """What a processor that never saw a key means: nothing was charged."""
    return ChargeResult(
        ChargeOutcome.DECLINED, None, "not_charged", "The charge did not reach the processor."
    )
