"""The payment processor interface and the test-mode processor."""

from __future__ import annotations

from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.payments.processor import PaymentProcessor, TimedProcessor
from portal_gateway.payments.test_processor import TestProcessor


def processor_from_settings(settings: Settings, db: Database) -> PaymentProcessor:
    """The configured processor, each call of it timed (settings refuse live mode without
    one)."""
    if settings.processor_name == "test":
        return TimedProcessor(
            TestProcessor(db, live=settings.is_live), settings.processor_timeout_seconds
        )
    raise ValueError(f"unknown payment processor {settings.processor_name!r}")
