"""Settling charges a crash left PENDING, by asking the processor; never by charging again."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import SystemPrincipal
from portal_gateway.core.errors import DomainError
from portal_gateway.db import Database
from portal_gateway.models import Payment
from portal_gateway.payments.processor import ChargeResult, PaymentProcessor
from portal_gateway.services import card_updates, charges, plan_changes, renewals
from portal_gateway.services.unit_of_work import Actor, in_unit_of_work

log = logging.getLogger(__name__)

# A charge younger than this may still be in flight in another process.
RECONCILE_GRACE = timedelta(minutes=2)
RECONCILER = Actor(SystemPrincipal("billing.reconcile"))

# Who finishes the work a charge pays for, by the payment's purpose.
SETTLERS: dict[str, charges.Settle[Any]] = {
    plan_changes.PURPOSE: plan_changes.settle,
    card_updates.PURPOSE: card_updates.settle,
    renewals.PURPOSE: renewals.settle,
}


async def reconcile_pending_payments(
    db: Database, processor: PaymentProcessor, *, older_than: timedelta
) -> int:
    """Settle every PENDING payment older than `older_than` with the processor's one final
    answer; how many were settled (one the processor does not answer now waits)."""
    async with db.read_sessions() as session:
        payment_ids = await charges.stale_pending_payments(session, older_than)
    settled = 0
    for payment_id in payment_ids:
        answer = await charges.processor_answer(processor, payment_id)
        if answer is None:
            log.warning("reconcile: the processor did not answer for %s; next round", payment_id)
            continue

        async def work(
            session: AsyncSession, payment_id: str = payment_id, answer: ChargeResult = answer
        ) -> object:
            purpose = await session.scalar(select(Payment.purpose).where(Payment.id == payment_id))
            settle = SETTLERS[str(purpose)]
            return await settle(session, payment_id, answer)

        try:
            outcome = await in_unit_of_work(
                db, RECONCILER, "reconcilePayment", work,
                target_type="Payment", target_id=payment_id,
            )  # fmt: skip
            state = outcome.code if isinstance(outcome, DomainError) else "settled"
        except DomainError as error:
            state = error.code
        log.info("reconciled payment %s: %s", payment_id, state)
        settled += 1
    return settled
