"""Renewing what is due every few minutes (the work is services/renewals.py)."""

from __future__ import annotations

import asyncio
import logging

from portal_gateway.db import Database
from portal_gateway.payments.processor import PaymentProcessor
from portal_gateway.services.renewals import renew_due

log = logging.getLogger(__name__)


async def renew_forever(db: Database, processor: PaymentProcessor, every_seconds: float) -> None:
    """A run at once, then one every `every_seconds`; safe beside the same loop in every other
    process (each period is claimed once)."""
    while True:
        try:
            await renew_due(db, processor)
        except Exception:  # the loop must outlive a database hiccup; the next round retries
            log.exception("renewals failed")
        await asyncio.sleep(every_seconds)
