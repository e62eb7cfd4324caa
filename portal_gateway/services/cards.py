"""Saved cards: adding one from a processor token, removing one, and what both share with
updatePaymentMethod (the token's checks, the rate limits, attaching at the processor).

A card is attached at the processor outside any transaction (a slow processor must not hold
a database lock), then saved in a unit of work of its own. A removed card is gone here at
once; the processor forgets it through the outbox, which retries until it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import PortalPrincipal, Principal
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.core import clock
from portal_gateway.core.cards import looks_like_card_number
from portal_gateway.core.errors import (
    DomainError,
    InvalidInputError,
    NotFoundError,
    PaymentFailedError,
    PaymentMethodInUseError,
    RateLimitedError,
)
from portal_gateway.core.ids import require_id
from portal_gateway.db import Database
from portal_gateway.models import CustomerAccount, Payment, PaymentMethod, Subscription
from portal_gateway.models.enums import PaymentStatus, SubscriptionStatus
from portal_gateway.notifications.dispatcher import Action
from portal_gateway.notifications.outbox import queue_job
from portal_gateway.payments.processor import (
    CardDetails,
    CardRefused,
    PaymentProcessor,
    ProcessorTimeout,
    UnknownToken,
)
from portal_gateway.queries.readable import readable
from portal_gateway.services.notices import notify_account
from portal_gateway.services.unit_of_work import Actor, in_unit_of_work

ADD_PAYMENT_METHOD = "addPaymentMethod"
REMOVE_PAYMENT_METHOD = "removePaymentMethod"
# The outbox job that detaches a removed card at the processor.
DETACH_JOB = "processor:detach"
MAX_TOKEN = 255
# Subscriptions that may still be charged: their card cannot be removed.
CHARGEABLE = (SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE, SubscriptionStatus.ON_HOLD)


def checked_token(token: str) -> str:
    """A processor token, or InvalidInputError on `token`. What looks like a card number is
    refused before anything else reads it: the message never repeats the input."""
    if looks_like_card_number(token):
        raise InvalidInputError(
            "Card numbers are never accepted here: pass the token your payment form made.",
            field="token",
            code="CARD_NUMBER_NOT_ACCEPTED",
        )
    token = token.strip()
    if not 1 <= len(token) <= MAX_TOKEN:
        raise InvalidInputError(f"token must be 1 to {MAX_TOKEN} characters.", field="token")
    return token


async def within_card_limits(
    rate_limits: RateLimits, principal: Principal, account_id: str
) -> None:
    """Count one card attempt against the session's budget and the account's, or
    RateLimitedError once either is spent."""
    session_id = principal.session_id if isinstance(principal, PortalPrincipal) else None
    limited = await rate_limits.hit_all(("card:session", session_id), ("card:account", account_id))
    if limited is not None:
        raise RateLimitedError(limited.retry_after_seconds)


async def own_account(session: AsyncSession, principal: Principal, business_id: str) -> str:
    """The id of the principal's account at `business_id`, or NotFoundError."""
    require_id(business_id, "Business")
    account_id = await session.scalar(
        readable(CustomerAccount, principal)
        .where(CustomerAccount.business_id == business_id)
        .with_only_columns(CustomerAccount.id)
    )
    if account_id is None:
        raise NotFoundError("No such business.")
    return str(account_id)


async def attach(processor: PaymentProcessor, token: str) -> CardDetails | DomainError:
    """The card behind `token` as the processor saved it, or what refused it."""
    try:
        return await processor.attach(token)
    except UnknownToken as refused:
        return InvalidInputError(refused.message, field="token", code="INVALID_TOKEN")
    except CardRefused as refused:
        return PaymentFailedError(refused.message, decline_code=refused.code)
    except ProcessorTimeout:
        return PaymentFailedError(
            "The card could not be checked just now; try again.",
            decline_code="processor_unavailable",
        )


async def attach_and_save(
    db: Database,
    processor: PaymentProcessor,
    actor: Actor,
    account_id: str,
    token: str,
    *,
    action: str,
) -> PaymentMethod:
    """Attach `token` at the processor, then save the card to the account (with an email),
    in a unit of work recorded as `action`.save; a refusal is recorded and raised, and
    nothing is saved."""
    attached = await attach(processor, token)

    async def save(session: AsyncSession) -> PaymentMethod:
        if isinstance(attached, DomainError):
            raise attached
        account = await session.get_one(CustomerAccount, account_id)
        card = PaymentMethod(
            business_id=account.business_id,
            account_id=account.id,
            processor_ref=attached.processor_ref,
            brand=attached.brand,
            last4=attached.last4,
            exp_month=attached.exp_month,
            exp_year=attached.exp_year,
        )
        session.add(card)
        await session.flush()
        await notify_account(session, account, "card_added", card=_shown(card))
        return card

    return await in_unit_of_work(
        db, actor, f"{action}.save", save, target_type="CustomerAccount", target_id=account_id
    )


async def add_payment_method(
    db: Database,
    processor: PaymentProcessor,
    rate_limits: RateLimits,
    actor: Actor,
    *,
    business_id: str,
    token: str,
) -> PaymentMethod:
    """addPaymentMethod: the token's checks and the limits, then the card attached and
    saved."""

    async def check(session: AsyncSession) -> tuple[str, str]:
        checked = checked_token(token)
        account_id = await own_account(session, actor.principal, business_id)
        await within_card_limits(rate_limits, actor.principal, account_id)
        return account_id, checked

    account_id, checked = await in_unit_of_work(
        db, actor, ADD_PAYMENT_METHOD, check, target_type="Business", target_id=business_id
    )
    return await attach_and_save(
        db, processor, actor, account_id, checked, action=ADD_PAYMENT_METHOD
    )


async def usable_card(
    session: AsyncSession, account_id: str, payment_method_id: str
) -> PaymentMethod:
    """A card of `account_id` that is still saved, locked against its removal for this
    transaction; else NotFoundError (another account's card is as absent as a removed one)."""
    require_id(payment_method_id, "PaymentMethod")
    card = await session.scalar(
        select(PaymentMethod)
        .where(
            PaymentMethod.id == payment_method_id,
            PaymentMethod.account_id == account_id,
            PaymentMethod.detached_at.is_(None),
        )
        .with_for_update(read=True)
    )
    if card is None:
        raise NotFoundError("No such payment method.")
    return card


async def remove_payment_method(db: Database, actor: Actor, payment_method_id: str) -> str:
    """removePaymentMethod: gone here at once, detached at the processor through the outbox.
    Refused while a subscription that can still be charged pays with it."""

    async def work(session: AsyncSession) -> str:
        require_id(payment_method_id, "PaymentMethod")
        card = await session.scalar(
            readable(PaymentMethod, actor.principal)
            .where(PaymentMethod.id == payment_method_id, PaymentMethod.detached_at.is_(None))
            .with_for_update()
        )
        if card is None:
            raise NotFoundError("No such payment method.")
        # Subscriptions it pays for, and any it is being charged for right now (dues being
        # paid with it, before the subscription is switched to it).
        charging = select(Payment.subscription_id).where(
            Payment.payment_method_id == card.id, Payment.status == PaymentStatus.PENDING
        )
        in_use = list(
            await session.scalars(
                select(Subscription.id)
                .where(
                    or_(
                        and_(
                            Subscription.payment_method_id == card.id,
                            Subscription.status.in_(CHARGEABLE),
                        ),
                        Subscription.id.in_(charging),
                    )
                )
                .order_by(Subscription.created_at, Subscription.id)
            )
        )
        if in_use:
            raise PaymentMethodInUseError(
                "This card pays for a subscription: give that subscription another card first.",
                in_use,
            )
        card.detached_at = clock.now()
        await queue_job(
            session, kind=DETACH_JOB, recipient="", channel="processor",
            payload={"processor_ref": card.processor_ref},
        )  # fmt: skip
        account = await session.get_one(CustomerAccount, card.account_id)
        await notify_account(session, account, "card_removed", card=_shown(card))
        return card.id

    return await in_unit_of_work(
        db, actor, REMOVE_PAYMENT_METHOD, work,
        target_type="PaymentMethod", target_id=payment_method_id,
    )  # fmt: skip


def detach_action(processor: PaymentProcessor) -> Action:
    """The outbox's handler of DETACH_JOB: the processor forgets the card (an error is
    retried by the outbox until it succeeds)."""

    async def detach(payload: Mapping[str, Any]) -> None:
        await processor.detach(str(payload["processor_ref"]))

    return detach


async def shown(session: AsyncSession, payment: Payment) -> dict[str, Any] | None:
    """The card a payment was made with, as an email shows it."""
    if payment.payment_method_id is None:
        return None
    return _shown(await session.get_one(PaymentMethod, payment.payment_method_id))


def _shown(card: PaymentMethod) -> dict[str, Any]:
    """What an email may say of a card: never more than the customer sees in the portal."""
    return {
        "brand": card.brand.display_name,
        "last4": card.last4,
        "exp": f"{card.exp_month:02d}/{card.exp_year}",
    }
