"""Charging a card, in the order that rules out a double charge:

1. one transaction locks the subscription, checks the rules, reserves any credit
   used and commits a PENDING Payment (a partial unique index allows one per
   subscription);
2. the processor is called with the Payment's id as its idempotency key;
3. a second transaction records the outcome: on success the Payment, the Invoice
   and the subscription change together; on a decline a FAILED Payment and
   nothing else.
A PENDING Payment left by a crash is settled by reconciliation, which asks the
processor what happened to that key; it never charges again.

What a charge pays for (a plan change, later dues and renewals) decides steps 1 and
3; this module owns the order and the payment row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.core import clock
from portal_gateway.core.errors import ConflictError, DomainError, PaymentFailedError
from portal_gateway.db import Database
from portal_gateway.models import Payment, PaymentMethod, Subscription
from portal_gateway.models.enums import PaymentStatus
from portal_gateway.payments.processor import (
    VOIDED,
    ChargeOutcome,
    ChargeResult,
    PaymentProcessor,
    ProcessorTimeout,
)
from portal_gateway.services.unit_of_work import Actor, in_unit_of_work

R = TypeVar("R")


@dataclass(frozen=True)
class PendingCharge:
    """Step 1 is committed: what step 2 asks the processor for."""

    payment_id: str
    payment_method_ref: str
    amount_minor: int
    currency: str


async def card_to_charge(session: AsyncSession, subscription: Subscription) -> PaymentMethod:
    """The subscription's saved card, or PaymentFailedError when it has none left."""
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
    return method


async def open_charge(
    session: AsyncSession,
    subscription: Subscription,
    method: PaymentMethod,
    *,
    amount_minor: int,
    currency: str,
    purpose: str,
    details: dict[str, Any],
) -> PendingCharge:
    """Step 1's PENDING Payment; `details` say what it pays for, so that whoever settles it
    (the caller, or reconciliation after a crash) can finish the work."""
    payment = Payment(
        business_id=subscription.business_id,
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        payment_method_id=method.id,
        amount_minor=amount_minor,
        currency=currency,
        status=PaymentStatus.PENDING,
        purpose=purpose,
        details=details,
    )
    try:
        async with session.begin_nested():
            session.add(payment)
    except IntegrityError:  # the one-PENDING-per-subscription index: another charge won
        raise ConflictError("A charge for this subscription is in progress.") from None
    return PendingCharge(payment.id, method.processor_ref, payment.amount_minor, payment.currency)


Settle = Callable[[AsyncSession, str, ChargeResult], Awaitable[R | PaymentFailedError]]


async def charge(
    db: Database,
    processor: PaymentProcessor,
    actor: Actor,
    action: str,
    begin: Callable[[AsyncSession], Awaitable[R | PendingCharge]],
    settle: Settle[R],
    *,
    target_type: str,
    target_id: str,
) -> R:
    """The three steps, each committed before the next. `begin` may finish the work at once
    (nothing to charge, or an idempotent replay); a decline is committed, then raised."""
    started = await in_unit_of_work(
        db, actor, action, begin, target_type=target_type, target_id=target_id
    )
    if not isinstance(started, PendingCharge):
        return started
    try:
        answer = await processor.charge(
            started.payment_method_ref, started.amount_minor, started.currency, started.payment_id
        )
    except ProcessorTimeout:
        # The charge may yet land: the payment stays PENDING until reconcile asks the
        # processor for the one final answer. The customer is told the truth.
        raise ConflictError(
            "Your payment is being confirmed; this page will show it shortly. "
            "Nothing more will be charged.",
            code="PAYMENT_PENDING",
        ) from None

    async def record(session: AsyncSession) -> R | PaymentFailedError:
        return await settle(session, started.payment_id, answer)

    outcome = await in_unit_of_work(
        db, actor, f"{action}.settle", record, target_type=target_type, target_id=target_id
    )
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def pending_payment(session: AsyncSession, payment_id: str) -> Payment:
    """The payment to settle, locked; settling twice is the second settler's no-op."""
    payment = await session.scalar(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    )
    assert payment is not None
    return payment


def record_decline(payment: Payment, result: ChargeResult) -> PaymentFailedError:
    """Step 3 for a refused charge: the FAILED payment, and the error the customer sees."""
    payment.status = PaymentStatus.FAILED
    payment.failure_code = result.decline_code or "declined"
    payment.failure_message = result.message or "The card was declined."
    return PaymentFailedError(payment.failure_message, payment.failure_code, payment.id)


def failure_record(payment_id: str, failure: PaymentFailedError) -> dict[str, Any]:
    """A decline as kept under an idempotency key, for `replay_failure`."""
    return {
        "error": failure.code,
        "payment_id": payment_id,
        "decline_code": failure.decline_code,
        "message": failure.message,
    }


def replay_failure(stored: dict[str, Any]) -> None:
    """Raise again the decline that an idempotency key's first call met, if it met one."""
    if stored.get("error") == PaymentFailedError.code:
        raise PaymentFailedError(
            str(stored.get("message") or "The card was declined."),
            stored.get("decline_code"),
            stored.get("payment_id"),
        )


def failure_of(payment: Payment) -> PaymentFailedError:
    """The decline a settled FAILED payment recorded, as the customer saw it."""
    return PaymentFailedError(
        payment.failure_message or "The card was declined.", payment.failure_code, payment.id
    )


async def stale_pending_payments(session: AsyncSession, older_than: timedelta) -> list[str]:
    """PENDING payments older than `older_than`: charges a crash may have left unsettled."""
    cutoff = clock.now() - older_than
    rows = await session.scalars(
        select(Payment.id).where(
            Payment.status == PaymentStatus.PENDING, Payment.created_at <= cutoff
        )
    )
    return list(rows)


async def processor_answer(processor: PaymentProcessor, payment_id: str) -> ChargeResult | None:
    """The one final outcome of the charge with this key, to settle it by; None when the
    processor does not answer now (ask again later). The key is voided first: a charge that
    had landed comes back as it is, and one that had not can never land after this. Absence
    alone is never read as "not charged"."""
    try:
        answer = await processor.void(payment_id)
    except ProcessorTimeout:
        return None
    if answer.outcome is ChargeOutcome.ERROR:  # the processor failed to answer: ask again
        return None
    if answer.outcome is ChargeOutcome.DECLINED and answer.decline_code == VOIDED:
        return ChargeResult(
            ChargeOutcome.DECLINED, None, "not_charged", "The charge did not reach the processor."
        )
    return answer
