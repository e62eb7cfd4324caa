"""Settling stale PENDING charges every few minutes (the work is services/reconciliation.py)."""

from __future__ import annotations

import asyncio
import logging

from portal_gateway.db import Database
from portal_gateway.payments.processor import PaymentProcessor
from portal_gateway.services.reconciliation import RECONCILE_GRACE, reconcile_pending_payments

log = logging.getLogger(__name__)

RECONCILE_EVERY_SECONDS = 300.0


async def reconcile_forever(db: Database, processor: PaymentProcessor) -> None:
    while True:
        await asyncio.sleep(RECONCILE_EVERY_SECONDS)
        try:
            await reconcile_pending_payments(db, processor, older_than=RECONCILE_GRACE)
        except Exception:  # the loop must outlive a database hiccup; the next round retries
            log.exception("reconcile failed")
