"""updatePaymentMethod: the card a subscription is charged with. An ACTIVE subscription's
next renewals use the new card. An ON_HOLD one has its dues charged with it in one step,
in the order of services/charges.py: one Payment, one Invoice for the dues, the dues
settled, status ACTIVE with a new period starting now. A decline leaves it ON_HOLD with its
dues and the card change not applied; the customer may try another card.

A card given as a token is attached and saved first (it stays saved whatever follows: the
customer may want it elsewhere); then it is used as a saved card would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.core import clock
from portal_gateway.core.errors import InvalidInputError, InvalidStateError, PaymentFailedError
from portal_gateway.core.ids import require_id
from portal_gateway.db import Database
from portal_gateway.models import CreditBalance, CustomerAccount, Payment, Product, Subscription
from portal_gateway.models.enums import PaymentStatus, SubscriptionStatus
from portal_gateway.payments.processor import ChargeOutcome, ChargeResult, PaymentProcessor
from portal_gateway.queries.subscriptions import subscription_in_scope
from portal_gateway.services import cards, charges, idempotency
from portal_gateway.services.charges import PendingCharge
from portal_gateway.services.credits import adjust_credit
from portal_gateway.services.invoices import LineDraft, issue_invoice
from portal_gateway.services.notices import amount, notify_subscription
from portal_gateway.services.periods import add_interval
from portal_gateway.services.subscription_locks import (
    ensure_no_charge_in_flight,
    locked_subscription,
)
from portal_gateway.services.unit_of_work import Actor, in_unit_of_work

UPDATE_PAYMENT_METHOD = "updatePaymentMethod"
PURPOSE = "dues"
UPDATABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.ON_HOLD)


@dataclass(frozen=True)
class CardUpdated:
    subscription_id: str
    payment_method_id: str
    reactivated: bool
    invoice_id: str | None = None
    payment_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "payment_method_id": self.payment_method_id,
            "reactivated": self.reactivated,
            "invoice_id": self.invoice_id,
            "payment_id": self.payment_id,
        }


@dataclass(frozen=True)
class DuesCharge:
    """What a PENDING dues payment pays for, kept on it for whoever settles it."""

    payment_method_id: str
    lines: list[LineDraft]
    credit_used_minor: int
    idempotency_key: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": PURPOSE,
            "payment_method_id": self.payment_method_id,
            "lines": [line.to_json() for line in self.lines],
            "credit_used_minor": self.credit_used_minor,
            "idempotency_key": self.idempotency_key,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DuesCharge:
        return cls(
            data["payment_method_id"],
            [LineDraft.from_json(line) for line in data["lines"]],
            data["credit_used_minor"],
            data.get("idempotency_key"),
        )


async def update_payment_method(
    db: Database,
    processor: PaymentProcessor,
    rate_limits: RateLimits,
    actor: Actor,
    *,
    subscription_id: str,
    payment_method_id: str | None,
    token: str | None,
    idempotency_key: str | None,
) -> CardUpdated:
    """updatePaymentMethod, whole: the checks and the limits; a token's card attached and
    saved; then the switch, or the dues charged, each step committed before the next."""

    async def check(session: AsyncSession) -> tuple[str, dict[str, Any], CardUpdated | None]:
        if (payment_method_id is None) == (token is None):
            raise InvalidInputError(
                "Give exactly one of paymentMethodId and token.", field="paymentMethodId"
            )
        request = {
            "subscriptionId": subscription_id,
            "paymentMethodId": payment_method_id,
            "token": cards.checked_token(token) if token is not None else None,
        }
        require_id(subscription_id, "Subscription")
        subscription = await subscription_in_scope(session, actor.principal, subscription_id)
        account_id = subscription.account_id
        if idempotency_key is not None:
            stored = await idempotency.peek(
                session, account_id, UPDATE_PAYMENT_METHOD, idempotency_key, request
            )
            if stored is not None:
                return account_id, request, _replay(stored)
        _ensure_updatable(subscription)
        await cards.within_card_limits(rate_limits, actor.principal, account_id)
        return account_id, request, None

    account_id, request, replayed = await in_unit_of_work(
        db, actor, f"{UPDATE_PAYMENT_METHOD}.check", check,
        target_type="Subscription", target_id=subscription_id,
    )  # fmt: skip
    if replayed is not None:
        return replayed
    card_id = payment_method_id
    if request["token"] is not None:
        card = await cards.attach_and_save(
            db, processor, actor, account_id, request["token"], action=UPDATE_PAYMENT_METHOD
        )
        card_id = card.id
    assert card_id is not None

    async def begin(session: AsyncSession) -> CardUpdated | PendingCharge:
        return await _begin(session, actor, subscription_id, card_id, request, idempotency_key)

    return await charges.charge(
        db, processor, actor, UPDATE_PAYMENT_METHOD, begin, settle,
        target_type="Subscription", target_id=subscription_id,
    )  # fmt: skip


def _ensure_updatable(subscription: Subscription) -> None:
    if subscription.status not in UPDATABLE:
        status = subscription.status.value
        raise InvalidStateError(f"The card of a {status} subscription cannot be changed.", status)


async def _begin(
    session: AsyncSession,
    actor: Actor,
    subscription_id: str,
    card_id: str,
    request: dict[str, Any],
    idempotency_key: str | None,
) -> CardUpdated | PendingCharge:
    """Step 1. A switch, or dues the account's credit covers, completes here; dues to charge
    leave a committed PENDING Payment with the chosen card."""
    subscription = await locked_subscription(session, actor.principal, subscription_id)
    if idempotency_key is not None:
        stored = await idempotency.begin(
            session, subscription.account_id, UPDATE_PAYMENT_METHOD, idempotency_key, request
        )
        if stored is not None:
            return _replay(stored)
    _ensure_updatable(subscription)
    card = await cards.usable_card(session, subscription.account_id, card_id)
    await ensure_no_charge_in_flight(session, subscription.id)
    if subscription.status is SubscriptionStatus.ACTIVE:
        subscription.payment_method_id = card.id
        updated = CardUpdated(subscription.id, card.id, reactivated=False)
        await _remember(session, subscription, idempotency_key, updated.to_json())
        return updated
    lines = await dues_lines(session, subscription)
    balance = await session.scalar(
        select(CreditBalance.amount_minor).where(
            CreditBalance.account_id == subscription.account_id,
            CreditBalance.currency == subscription.currency,
        )
    )
    credit_used = min(max(balance or 0, 0), subscription.dues_minor)
    dues = DuesCharge(card.id, lines, credit_used, idempotency_key)
    if subscription.dues_minor - credit_used == 0:
        return await _reactivate(session, subscription, dues, payment=None, now=clock.now())
    await adjust_credit(session, subscription, -credit_used)
    return await charges.open_charge(
        session,
        subscription,
        card,
        amount_minor=subscription.dues_minor - credit_used,
        currency=subscription.currency,
        purpose=PURPOSE,
        details=dues.to_json(),
    )


async def dues_lines(session: AsyncSession, subscription: Subscription) -> list[LineDraft]:
    """The lines the declined renewal priced; for dues recorded before lines were kept, one
    line of the amount owed."""
    if subscription.dues_lines:
        return [LineDraft.from_json(line) for line in subscription.dues_lines]
    product = await session.get_one(Product, subscription.product_id)
    owed = subscription.dues_minor
    return [LineDraft(f"{product.name} (outstanding)", 1, owed, owed)]


async def settle(
    session: AsyncSession, payment_id: str, result: ChargeResult
) -> CardUpdated | PaymentFailedError:
    """Step 3: record what the processor answered for the dues. Settling twice changes
    nothing."""
    payment = await charges.pending_payment(session, payment_id)
    dues = DuesCharge.from_json(payment.details or {})
    if payment.status is not PaymentStatus.PENDING:
        return _outcome_of(payment, dues)
    subscription = await session.scalar(
        select(Subscription).where(Subscription.id == payment.subscription_id).with_for_update()
    )
    assert subscription is not None
    if result.outcome is ChargeOutcome.SUCCEEDED:
        payment.status = PaymentStatus.SUCCEEDED
        payment.processor_ref = result.charge_ref
        return await _reactivate(session, subscription, dues, payment=payment, now=clock.now())
    failure = charges.record_decline(payment, result)
    await adjust_credit(session, subscription, dues.credit_used_minor)  # release
    subscription.last_decline_code = failure.decline_code
    failed = charges.failure_record(payment.id, failure)
    await _remember(session, subscription, dues.idempotency_key, failed)
    return failure


async def _reactivate(
    session: AsyncSession,
    subscription: Subscription,
    dues: DuesCharge,
    *,
    payment: Payment | None,
    now: datetime,
) -> CardUpdated:
    """The dues paid: their one invoice, the subscription ACTIVE on the chosen card with a
    new period from now, and the emails."""
    account = await session.get_one(CustomerAccount, subscription.account_id)
    invoice = await issue_invoice(
        session,
        account,
        dues.lines,
        currency=subscription.currency,
        issued_at=now,
        subscription_id=subscription.id,
        credit_applied_minor=dues.credit_used_minor,
    )
    if payment is None:
        await adjust_credit(session, subscription, -dues.credit_used_minor)
    else:
        payment.invoice_id = invoice.id
    paid = subscription.dues_minor
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.payment_method_id = dues.payment_method_id
    subscription.current_period_start = now
    subscription.current_period_end = add_interval(now, subscription.billing_interval)
    subscription.dues_minor = 0
    subscription.dues_lines = None
    subscription.last_decline_code = None
    await session.flush()
    if payment is not None:
        await notify_subscription(
            session, subscription, "payment_receipt",
            charged=amount(payment.amount_minor, payment.currency),
            invoice_number=invoice.number, card=await cards.shown(session, payment),
        )  # fmt: skip
    await notify_subscription(
        session, subscription, "subscription_reactivated",
        paid=amount(paid, subscription.currency),
        next_billing_at=subscription.current_period_end.isoformat(),
    )  # fmt: skip
    updated = CardUpdated(
        subscription.id,
        dues.payment_method_id,
        reactivated=True,
        invoice_id=invoice.id,
        payment_id=payment.id if payment else None,
    )
    await _remember(session, subscription, dues.idempotency_key, updated.to_json())
    return updated


async def _remember(
    session: AsyncSession,
    subscription: Subscription,
    idempotency_key: str | None,
    result: dict[str, Any],
) -> None:
    if idempotency_key is not None:
        await idempotency.finish(
            session, subscription.account_id, UPDATE_PAYMENT_METHOD, idempotency_key, result
        )


def _replay(stored: dict[str, Any]) -> CardUpdated:
    """The first call's result for a retried idempotency key."""
    charges.replay_failure(stored)
    return CardUpdated(
        subscription_id=str(stored["subscription_id"]),
        payment_method_id=str(stored["payment_method_id"]),
        reactivated=bool(stored["reactivated"]),
        invoice_id=stored.get("invoice_id"),
        payment_id=stored.get("payment_id"),
    )


def _outcome_of(payment: Payment, dues: DuesCharge) -> CardUpdated | PaymentFailedError:
    if payment.status is PaymentStatus.SUCCEEDED:
        assert payment.subscription_id is not None
        return CardUpdated(
            payment.subscription_id,
            dues.payment_method_id,
            reactivated=True,
            invoice_id=payment.invoice_id,
            payment_id=payment.id,
        )
    return charges.failure_of(payment)
