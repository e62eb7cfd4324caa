"""The payment processor interface and the test-mode processor."""

from __future__ import annotations

from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.payments.processor import PaymentProcessor
from portal_gateway.payments.test_processor import TestProcessor


def processor_from_settings(settings: Settings, db: Database) -> PaymentProcessor:
    """The configured processor (settings refuse live mode without one)."""
    if settings.processor_name == "test":
        return TestProcessor(db, live=settings.is_live)
    raise ValueError(f"unknown payment processor {settings.processor_name!r}")
