"""Renewals: every ACTIVE subscription whose period ended is charged for the next period on
its card, in the charge order of services/charges.py (the account's credit in that currency
used first). Paid: an Invoice, a Payment and the next period. Declined: a FAILED payment,
no invoice, and the subscription ON_HOLD with the period's amount as its dues, with an
email whose link opens the card update. A processor error, or a timeout that reconcile
settles as not charged, leaves the period claimed and unpaid: the next run tries again with
a new Payment, and only a decline puts a subscription on hold.

A subscription set to end at the period end is CANCELLED instead, and one whose fixed term
is over EXPIRED, each with an email. One many periods behind (the server was down) renews
one period at a time up to now, or stops at the first decline.

Many processes may run renewals at once, as often as they like: a period is claimed by one
row per (subscription, period start), the subscription is locked while it is claimed, and
a second charge cannot start while one is in flight; so each period is charged once.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import SystemPrincipal
from portal_gateway.core import clock
from portal_gateway.core.errors import ConflictError, PaymentFailedError
from portal_gateway.db import Database
from portal_gateway.models import (
    Business,
    CreditBalance,
    CustomerAccount,
    Payment,
    Product,
    RenewalClaim,
    Subscription,
)
from portal_gateway.models.enums import (
    LinkKind,
    PaymentStatus,
    PortalFlowType,
    RenewalStatus,
    SubscriptionStatus,
)
from portal_gateway.notifications.dispatcher import Composer
from portal_gateway.notifications.outbox import Email, queue_job
from portal_gateway.payments.processor import ChargeOutcome, ChargeResult, PaymentProcessor
from portal_gateway.services import cards, charges
from portal_gateway.services.charges import PendingCharge
from portal_gateway.services.credits import adjust_credit
from portal_gateway.services.invoices import LineDraft, issue_invoice
from portal_gateway.services.links import MAX_LINK_LIFETIME, mint_link
from portal_gateway.services.notices import amount, notify_subscription
from portal_gateway.services.periods import add_interval
from portal_gateway.services.unit_of_work import Actor

log = logging.getLogger(__name__)

RENEW = "renewSubscription"
PURPOSE = "renewal"
RENEWER = Actor(SystemPrincipal("billing.renew"))
# The email job of a declined renewal: its link is minted when it is sent.
RENEWAL_FAILED_JOB = "renewal_failed"
# What the processor says when nothing was charged and trying again may succeed.
NOT_CHARGED = "not_charged"


class Outcome(enum.Enum):
    RENEWED = "renewed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    # Not charged this time (a processor error): the next run tries again.
    RETRY = "retry"
    # A charge for it is in flight (another process, or one reconcile will settle).
    IN_FLIGHT = "in_flight"
    NOT_DUE = "not_due"


@dataclass(frozen=True)
class Renewal:
    subscription_id: str
    outcome: Outcome
    invoice_id: str | None = None
    payment_id: str | None = None


@dataclass
class RenewalRun:
    """What a run did, by outcome."""

    counts: dict[Outcome, int] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def summary(self) -> str:
        shown = [o for o in Outcome if o is not Outcome.NOT_DUE and self.counts.get(o)]
        return ", ".join(f"{self.counts[o]} {o.value.replace('_', ' ')}" for o in shown) or (
            "nothing due"
        )


@dataclass(frozen=True)
class RenewalCharge:
    """What a PENDING renewal payment pays for, kept on it for whoever settles it."""

    claim_id: str
    lines: list[LineDraft]
    credit_used_minor: int

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor + line.tax_minor for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": PURPOSE,
            "claim_id": self.claim_id,
            "lines": [line.to_json() for line in self.lines],
            "credit_used_minor": self.credit_used_minor,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenewalCharge:
        lines = [LineDraft.from_json(line) for line in data["lines"]]
        return cls(data["claim_id"], lines, data["credit_used_minor"])


async def renew_due(db: Database, processor: PaymentProcessor) -> RenewalRun:
    """Renew every subscription that is due now: `billing renew`, and the periodic job."""
    async with db.read_sessions() as session:
        due = list(
            await session.scalars(
                select(Subscription.id)
                .where(
                    Subscription.status == SubscriptionStatus.ACTIVE,
                    Subscription.current_period_end <= clock.now(),
                )
                .order_by(Subscription.current_period_end, Subscription.id)
            )
        )
    run = RenewalRun()
    for subscription_id in due:
        try:
            renewed = await renew_subscription(db, processor, subscription_id)
        except Exception:  # one subscription's surprise must not stop the others' renewals
            log.exception(
                "renewal of subscription %s failed; the next run retries", subscription_id
            )
            run.add(Outcome.RETRY)
            continue
        for renewal in renewed:
            run.add(renewal.outcome)
    log.info("renewals: %s", run.summary())
    return run


async def renew_subscription(
    db: Database, processor: PaymentProcessor, subscription_id: str
) -> list[Renewal]:
    """Renew one subscription period by period until it is paid up to now, or stops."""
    done: list[Renewal] = []
    while True:
        renewal = await _renew_once(db, processor, subscription_id)
        if renewal.outcome is not Outcome.NOT_DUE:
            done.append(renewal)
        if renewal.outcome is not Outcome.RENEWED:
            return done


async def _renew_once(db: Database, processor: PaymentProcessor, subscription_id: str) -> Renewal:
    async def begin(session: AsyncSession) -> Renewal | PendingCharge:
        return await begin_renewal(session, subscription_id)

    try:
        return await charges.charge(
            db, processor, RENEWER, RENEW, begin, settle,
            target_type="Subscription", target_id=subscription_id,
        )  # fmt: skip
    except PaymentFailedError:
        async with db.read_sessions() as session:
            status = await session.scalar(
                select(Subscription.status).where(Subscription.id == subscription_id)
            )
        held = status is SubscriptionStatus.ON_HOLD
        return Renewal(subscription_id, Outcome.ON_HOLD if held else Outcome.RETRY)
    except ConflictError:  # timed out: reconcile settles it; or another process charges it
        return Renewal(subscription_id, Outcome.IN_FLIGHT)


async def begin_renewal(session: AsyncSession, subscription_id: str) -> Renewal | PendingCharge:
    """Step 1: end it, renew it from credit, put it on hold (no card), or commit a PENDING
    Payment for the next period under the period's claim."""
    # Another process renewing it (or a customer changing it) holds the lock: this run moves
    # on, so that runs in several processes share the work instead of queueing on each row.
    subscription = await session.scalar(
        select(Subscription)
        .where(Subscription.id == subscription_id)
        .with_for_update(skip_locked=True)
    )
    if subscription is None:
        return Renewal(subscription_id, Outcome.IN_FLIGHT)
    if (
        subscription.status is not SubscriptionStatus.ACTIVE
        or subscription.current_period_end > clock.now()
    ):
        return Renewal(subscription_id, Outcome.NOT_DUE)
    in_flight = await session.scalar(
        select(Payment.id).where(
            Payment.subscription_id == subscription.id, Payment.status == PaymentStatus.PENDING
        )
    )
    if in_flight is not None:
        return Renewal(subscription_id, Outcome.IN_FLIGHT)
    ended = subscription.current_period_end
    if subscription.cancel_at_period_end:
        return await _end(session, subscription, SubscriptionStatus.CANCELLED, ended)
    if subscription.ends_at is not None and subscription.ends_at <= ended:
        return await _end(session, subscription, SubscriptionStatus.EXPIRED, ended)
    claim = await claim_next_period(session, subscription)
    if claim.status is not RenewalStatus.CLAIMED:  # settled before; its period is not this
        return Renewal(subscription_id, Outcome.NOT_DUE)
    if claim.attempts and clock.now() < claim.updated_at + retry_after(claim.attempts):
        return Renewal(subscription_id, Outcome.RETRY)  # the processor failed just now
    claim.attempts += 1
    lines = [await period_line(session, subscription, claim)]
    total = sum(line.amount_minor + line.tax_minor for line in lines)
    balance = await session.scalar(
        select(CreditBalance.amount_minor).where(
            CreditBalance.account_id == subscription.account_id,
            CreditBalance.currency == subscription.currency,
        )
    )
    renewal = RenewalCharge(claim.id, lines, min(max(balance or 0, 0), total))
    if total - renewal.credit_used_minor == 0:
        return await _renewed(session, subscription, claim, renewal, payment=None)
    try:
        card = await charges.card_to_charge(session, subscription)
    except PaymentFailedError as no_card:
        await put_on_hold(
            session, subscription, claim, renewal.lines, no_card.decline_code, payment=None
        )
        return Renewal(subscription_id, Outcome.ON_HOLD)
    await adjust_credit(session, subscription, -renewal.credit_used_minor)
    return await charges.open_charge(
        session,
        subscription,
        card,
        amount_minor=total - renewal.credit_used_minor,
        currency=subscription.currency,
        purpose=PURPOSE,
        details=renewal.to_json(),
    )


def retry_after(attempts: int) -> timedelta:
    """How long a period whose charge met a processor error waits before the next attempt:
    5 minutes, doubling, at most 12 hours; so an outage costs a few FAILED payments a day,
    not one per run."""
    wait: timedelta = timedelta(minutes=5) * 2 ** min(attempts - 1, 10)
    return min(wait, timedelta(hours=12))


async def claim_next_period(session: AsyncSession, subscription: Subscription) -> RenewalClaim:
    """The claim of the period that starts where the current one ends; made once."""
    start = subscription.current_period_end
    where = (RenewalClaim.subscription_id == subscription.id, RenewalClaim.period_start == start)
    claim = await session.scalar(select(RenewalClaim).where(*where).with_for_update())
    if claim is not None:
        return claim
    claim = RenewalClaim(
        business_id=subscription.business_id,
        subscription_id=subscription.id,
        period_start=start,
        period_end=add_interval(start, subscription.billing_interval),
        status=RenewalStatus.CLAIMED,
        attempts=0,
    )
    try:
        async with session.begin_nested():
            session.add(claim)
    except IntegrityError:  # another process claimed it first: use theirs
        found = await session.scalar(select(RenewalClaim).where(*where).with_for_update())
        assert found is not None
        return found
    return claim


async def period_line(
    session: AsyncSession, subscription: Subscription, claim: RenewalClaim
) -> LineDraft:
    product = await session.get_one(Product, subscription.product_id)
    business = await session.get_one(Business, subscription.business_id)
    subtotal = subscription.unit_price_minor * subscription.quantity
    return LineDraft.taxed(
        product.name,
        subscription.quantity,
        subscription.unit_price_minor,
        subtotal,
        tax_rate_bps=business.tax_rate_bps if product.taxable else 0,
        period_start=claim.period_start,
        period_end=claim.period_end,
    )


async def settle(
    session: AsyncSession, payment_id: str, result: ChargeResult
) -> Renewal | PaymentFailedError:
    """Step 3: record what the processor answered for the period. Settling twice changes
    nothing."""
    payment = await charges.pending_payment(session, payment_id)
    renewal = RenewalCharge.from_json(payment.details or {})
    assert payment.subscription_id is not None
    if payment.status is PaymentStatus.SUCCEEDED:
        return Renewal(payment.subscription_id, Outcome.RENEWED, payment.invoice_id, payment.id)
    if payment.status is not PaymentStatus.PENDING:
        return charges.failure_of(payment)
    subscription = await session.scalar(
        select(Subscription).where(Subscription.id == payment.subscription_id).with_for_update()
    )
    claim = await session.scalar(
        select(RenewalClaim).where(RenewalClaim.id == renewal.claim_id).with_for_update()
    )
    assert subscription is not None and claim is not None
    if result.outcome is ChargeOutcome.SUCCEEDED:
        payment.status = PaymentStatus.SUCCEEDED
        payment.processor_ref = result.charge_ref
        return await _renewed(session, subscription, claim, renewal, payment=payment)
    failure = charges.record_decline(payment, result)
    await adjust_credit(session, subscription, renewal.credit_used_minor)  # release
    claim.last_error = failure.decline_code
    if result.outcome is ChargeOutcome.ERROR or result.decline_code == NOT_CHARGED:
        return failure  # the claim stays open: the next run charges again, with a new Payment
    await put_on_hold(
        session, subscription, claim, renewal.lines, failure.decline_code, payment=payment
    )
    return failure


async def _renewed(
    session: AsyncSession,
    subscription: Subscription,
    claim: RenewalClaim,
    renewal: RenewalCharge,
    *,
    payment: Payment | None,
) -> Renewal:
    """The period paid: its invoice, the next period, the claim closed, the receipt."""
    account = await session.get_one(CustomerAccount, subscription.account_id)
    invoice = await issue_invoice(
        session,
        account,
        renewal.lines,
        currency=subscription.currency,
        issued_at=clock.now(),
        subscription_id=subscription.id,
        credit_applied_minor=renewal.credit_used_minor,
    )
    if payment is None:
        await adjust_credit(session, subscription, -renewal.credit_used_minor)
    else:
        payment.invoice_id = invoice.id
    subscription.current_period_start = claim.period_start
    subscription.current_period_end = claim.period_end
    claim.status = RenewalStatus.RENEWED
    claim.payment_id = payment.id if payment else None
    await session.flush()
    currency = subscription.currency
    await notify_subscription(
        session, subscription, "renewal_receipt",
        total=amount(renewal.total_minor, currency),
        credit_used=amount(renewal.credit_used_minor, currency),
        charged=amount(payment.amount_minor if payment else 0, currency),
        card=await cards.shown(session, payment) if payment else None,
        invoice_number=invoice.number,
        next_billing_at=subscription.current_period_end.isoformat(),
    )  # fmt: skip
    return Renewal(subscription.id, Outcome.RENEWED, invoice.id, payment.id if payment else None)


async def put_on_hold(
    session: AsyncSession,
    subscription: Subscription,
    claim: RenewalClaim,
    lines: list[LineDraft],
    decline_code: str | None,
    *,
    payment: Payment | None,
) -> None:
    """Declined: ON_HOLD with the period's amount as dues (no invoice: paying the dues
    issues the one invoice), and the email whose link opens the card update."""
    subscription.status = SubscriptionStatus.ON_HOLD
    subscription.dues_minor = sum(line.amount_minor + line.tax_minor for line in lines)
    subscription.dues_lines = [line.to_json() for line in lines]
    subscription.last_decline_code = decline_code
    claim.status = RenewalStatus.DECLINED
    claim.payment_id = payment.id if payment else None
    await session.flush()
    account = await session.get_one(CustomerAccount, subscription.account_id)
    await queue_job(
        session,
        kind=RENEWAL_FAILED_JOB,
        recipient=account.email,
        payload={"subscription_id": subscription.id},
    )


async def _end(
    session: AsyncSession, subscription: Subscription, status: SubscriptionStatus, at: datetime
) -> Renewal:
    subscription.status = status
    subscription.cancel_at_period_end = False
    if status is SubscriptionStatus.CANCELLED:
        subscription.cancelled_at = at
    await session.flush()
    await notify_subscription(session, subscription, "subscription_ended", ended_at=at.isoformat())
    outcome = Outcome.CANCELLED if status is SubscriptionStatus.CANCELLED else Outcome.EXPIRED
    return Renewal(subscription.id, outcome)


def composers(base_url: str) -> dict[str, Composer]:
    """The dispatcher's composer for this module's job."""

    async def renewal_failed(session: AsyncSession, payload: dict[str, Any]) -> Email | None:
        return await compose_renewal_failed(session, payload, base_url=base_url)

    return {RENEWAL_FAILED_JOB: renewal_failed}


async def compose_renewal_failed(
    session: AsyncSession, payload: dict[str, Any], *, base_url: str
) -> Email | None:
    """The on-hold email, with a one-time link (valid 24 hours from sending) into the card
    update of this subscription. Nothing is sent once it is no longer on hold."""
    subscription = await session.get(Subscription, str(payload["subscription_id"]))
    if subscription is None or subscription.status is not SubscriptionStatus.ON_HOLD:
        return None
    account = await session.get_one(CustomerAccount, subscription.account_id)
    business = await session.get_one(Business, subscription.business_id)
    product = await session.get_one(Product, subscription.product_id)
    link = await mint_link(
        session,
        base_url=base_url,
        kind=LinkKind.EMAILED_BUSINESS,
        account=account,
        expires_at=clock.now() + MAX_LINK_LIFETIME,
        flow_type=PortalFlowType.PAYMENT_METHOD_UPDATE,
        flow_subscription_id=subscription.id,
    )
    return Email(
        recipient=account.email,
        template="renewal_failed",
        locale=account.locale,
        context={
            "name": account.name,
            "business_name": business.name,
            "plan": product.name,
            "dues": amount(subscription.dues_minor, subscription.currency),
            "url": link.url,
            "expires_at": link.expires_at.isoformat(),
        },
    )
