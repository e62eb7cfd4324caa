"""Settling charges a crash left PENDING, by asking the processor; never by charging again."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import SystemPrincipal
from portal_gateway.core.errors import DomainError
from portal_gateway.db import Database
from portal_gateway.payments.processor import ChargeOutcome, ChargeResult, PaymentProcessor
from portal_gateway.resolvers.unit_of_work import in_unit_of_work
from portal_gateway.services import billing

log = logging.getLogger(__name__)

# A charge younger than this may still be in flight in another process.
RECONCILE_GRACE = timedelta(minutes=2)
RECONCILE_EVERY_SECONDS = 300.0
RECONCILER = SystemPrincipal("billing.reconcile")


async def reconcile_pending_payments(
    db: Database, processor: PaymentProcessor, *, older_than: timedelta
) -> int:
    """Settle every PENDING payment older than `older_than`; how many were settled."""
    async with db.read_sessions() as session:
        payment_ids = await billing.pending_payments(session, older_than)
    for payment_id in payment_ids:
        found = await processor.find_charge(payment_id)
        seen = found is not None and found.outcome is not ChargeOutcome.ERROR
        answer = found if found is not None and seen else billing.unseen_charge()

        async def work(
            session: AsyncSession, payment_id: str = payment_id, answer: ChargeResult = answer
        ) -> object:
            return await billing.settle(session, payment_id, answer)

        outcome = await in_unit_of_work(
            db, RECONCILER, None, "reconcilePayment", work,
            target_type="Payment", target_id=payment_id,
        )  # fmt: skip
        state = outcome.code if isinstance(outcome, DomainError) else "settled"
        log.info("reconciled payment %s: %s", payment_id, state)
    return len(payment_ids)


async def reconcile_forever(db: Database, processor: PaymentProcessor) -> None:
    while True:
        await asyncio.sleep(RECONCILE_EVERY_SECONDS)
        try:
            await reconcile_pending_payments(db, processor, older_than=RECONCILE_GRACE)
        except Exception:  # the loop must outlive a database hiccup; the next round retries
            log.exception("reconcile failed")
