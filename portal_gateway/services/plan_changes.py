"""Changing plans: what a move costs now, and the change itself, charged in the order of
services/charges.py. A change that costs nothing now (a downgrade, or one the account's
credit covers) completes in one transaction; one that must be charged is completed when
the charge is settled, by the request that charged or by reconciliation after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import Principal
from portal_gateway.core import clock
from portal_gateway.core.errors import NotFoundError, PaymentFailedError
from portal_gateway.core.ids import require_id
from portal_gateway.db import Database
from portal_gateway.models import (
    Business,
    CreditBalance,
    CustomerAccount,
    Payment,
    Product,
    Subscription,
)
from portal_gateway.models.enums import PaymentStatus, PlanChangeDirection
from portal_gateway.notifications.outbox import Email, queue_email
from portal_gateway.payments.processor import ChargeOutcome, ChargeResult, PaymentProcessor
from portal_gateway.queries.readable import readable
from portal_gateway.services import charges, idempotency
from portal_gateway.services.charges import PendingCharge
from portal_gateway.services.credits import adjust_credit
from portal_gateway.services.invoices import issue_invoice
from portal_gateway.services.notices import amount
from portal_gateway.services.plan_change_details import PlanChangeDetails
from portal_gateway.services.plan_change_rules import check_plan_change
from portal_gateway.services.proration import PlanChangeQuote, quote_plan_change
from portal_gateway.services.subscription_locks import (
    ensure_no_charge_in_flight,
    locked_subscription,
)
from portal_gateway.services.unit_of_work import Actor

CHANGE_PLAN = "changePlan"
PURPOSE = "plan_change"


@dataclass(frozen=True)
class PlanChanged:
    subscription_id: str
    direction: PlanChangeDirection
    invoice_id: str | None
    payment_id: str | None


@dataclass(frozen=True)
class QuotedChange:
    """What moving to `product` costs now, and which way it goes."""

    product: Product
    direction: PlanChangeDirection
    quote: PlanChangeQuote


@dataclass(frozen=True)
class PlanChangePreview:
    product: Product
    direction: PlanChangeDirection
    quote: PlanChangeQuote
    new_recurring_minor: int
    next_billing_date: datetime


async def change_plan(
    db: Database,
    processor: PaymentProcessor,
    actor: Actor,
    *,
    subscription_id: str,
    product_id: str,
    idempotency_key: str | None,
) -> PlanChanged:
    """changePlan, whole: the rules, the quote, the charge and its record, each step in its
    own committed unit of work."""

    async def begin(session: AsyncSession) -> PlanChanged | PendingCharge:
        return await begin_plan_change(
            session,
            actor.principal,
            subscription_id=subscription_id,
            product_id=product_id,
            idempotency_key=idempotency_key,
        )

    return await charges.charge(
        db, processor, actor, CHANGE_PLAN, begin, settle,
        target_type="Subscription", target_id=subscription_id,
    )  # fmt: skip


class PlanChangeReads(Protocol):
    """Where a quote reads the rows it needs: the charge's transaction, or the request's
    DataLoaders for a preview (so that previews of many subscriptions batch)."""

    async def product(self, product_id: str) -> Product | None:
        """A product in the principal's scope."""
        ...

    async def business(self, business_id: str) -> Business | None: ...

    async def credit_balance(self, account_id: str, currency: str) -> int: ...


async def quote_for(
    reads: PlanChangeReads, subscription: Subscription, product_id: str, now: datetime
) -> QuotedChange:
    """The rules and the price of moving `subscription` to `product_id` now: one reading, and
    one not-found rule, for the preview and for the charge."""
    target = await reads.product(product_id)
    if target is None or target.business_id != subscription.business_id:
        raise NotFoundError("No such product.")
    current = await reads.product(subscription.product_id)
    business = await reads.business(subscription.business_id)
    # A subscription in scope has its business and its product in scope.
    assert current is not None and business is not None
    balance = await reads.credit_balance(subscription.account_id, subscription.currency)
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
        credit_balance_minor=balance,
    )
    return QuotedChange(target, direction, quote)


async def preview_plan_change(
    reads: PlanChangeReads, subscription: Subscription, product_id: str
) -> PlanChangePreview:
    """What changePlan would do now, quoted as the change quotes it; changes nothing."""
    quoted = await quote_for(reads, subscription, require_id(product_id, "Product"), clock.now())
    return PlanChangePreview(
        product=quoted.product,
        direction=quoted.direction,
        quote=quoted.quote,
        new_recurring_minor=quoted.product.price_minor * subscription.quantity,
        next_billing_date=subscription.current_period_end,
    )


@dataclass(frozen=True)
class _ReadsInTransaction:
    """The charge's reads, in its locked transaction."""

    session: AsyncSession
    principal: Principal

    async def product(self, product_id: str) -> Product | None:
        product: Product | None = await self.session.scalar(
            readable(Product, self.principal).where(Product.id == product_id)
        )
        return product

    async def business(self, business_id: str) -> Business | None:
        return await self.session.get(Business, business_id)

    async def credit_balance(self, account_id: str, currency: str) -> int:
        balance = await self.session.scalar(
            select(CreditBalance.amount_minor).where(
                CreditBalance.account_id == account_id, CreditBalance.currency == currency
            )
        )
        return balance or 0


async def begin_plan_change(
    session: AsyncSession,
    principal: Principal,
    *,
    subscription_id: str,
    product_id: str,
    idempotency_key: str | None,
) -> PlanChanged | PendingCharge:
    """Step 1. A change that costs nothing now is completed here; one that must be charged
    leaves a committed PENDING Payment."""
    now = clock.now()
    require_id(subscription_id, "Subscription")
    require_id(product_id, "Product")
    subscription = await locked_subscription(session, principal, subscription_id)
    if idempotency_key is not None:
        request = {"subscriptionId": subscription_id, "productId": product_id}
        stored = await idempotency.begin(
            session, subscription.account_id, CHANGE_PLAN, idempotency_key, request
        )
        if stored is not None:
            return _replay(stored)
    await ensure_no_charge_in_flight(session, subscription.id)
    quoted = await quote_for(_ReadsInTransaction(session, principal), subscription, product_id, now)
    quote = quoted.quote
    change = PlanChangeDetails(quoted.product.id, quoted.direction.value, quote, idempotency_key)
    if quote.amount_due_minor == 0:
        return await _complete(session, subscription, change, payment=None, now=now)
    method = await charges.card_to_charge(session, subscription)
    await adjust_credit(session, subscription, -quote.credit_used_minor)
    return await charges.open_charge(
        session,
        subscription,
        method,
        amount_minor=quote.amount_due_minor,
        currency=quote.currency,
        purpose=PURPOSE,
        details=change.to_json(),
    )


async def settle(
    session: AsyncSession, payment_id: str, result: ChargeResult
) -> PlanChanged | PaymentFailedError:
    """Step 3: record what the processor answered. Settling twice changes nothing."""
    payment = await charges.pending_payment(session, payment_id)
    assert payment.subscription_id is not None
    change = PlanChangeDetails.from_json(payment.details or {})
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
    failure = charges.record_decline(payment, result)
    await adjust_credit(session, subscription, change.quote.credit_used_minor)  # release
    await _remember(session, subscription, change, charges.failure_record(payment.id, failure))
    return failure


def _replay(stored: dict[str, Any]) -> PlanChanged:
    """The first call's result for a retried idempotency key."""
    charges.replay_failure(stored)
    return PlanChanged(
        subscription_id=str(stored["subscription_id"]),
        direction=PlanChangeDirection(stored["direction"]),
        invoice_id=stored.get("invoice_id"),
        payment_id=stored.get("payment_id"),
    )


async def _complete(
    session: AsyncSession,
    subscription: Subscription,
    change: PlanChangeDetails,
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
                "charged": amount(quote.amount_due_minor, quote.currency),
                "credit_used": amount(quote.credit_used_minor, quote.currency),
                "credit_added": amount(quote.credit_added_minor, quote.currency),
                "recurring": amount(target.price_minor * subscription.quantity, quote.currency),
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
    await _remember(
        session, subscription, change,
        {"subscription_id": result.subscription_id, "direction": result.direction.value,
         "invoice_id": result.invoice_id, "payment_id": result.payment_id},
    )  # fmt: skip
    return result


async def _remember(
    session: AsyncSession,
    subscription: Subscription,
    change: PlanChangeDetails,
    result: dict[str, Any],
) -> None:
    """Keep the outcome under the change's idempotency key, for `_replay`."""
    if change.idempotency_key is not None:
        await idempotency.finish(
            session, subscription.account_id, CHANGE_PLAN, change.idempotency_key, result
        )


def _outcome_of(payment: Payment, change: PlanChangeDetails) -> PlanChanged | PaymentFailedError:
    if payment.status is PaymentStatus.SUCCEEDED:
        assert payment.subscription_id is not None
        return PlanChanged(
            payment.subscription_id,
            PlanChangeDirection(change.direction),
            payment.invoice_id,
            payment.id,
        )
    return charges.failure_of(payment)
