"""The test processor's own ledger.

The test processor is a real implementation of the processor interface, not a
mock: like a real processor it remembers every charge by its idempotency key,
across process restarts, so that a crash after charging is settled by asking
it (`billing reconcile`) and a retried charge is never taken twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.models.base import Base, created_at_column, currency_column, money_column


class TestProcessorCharge(Base):
    __tablename__ = "test_processor_charges"
    __test__ = False  # a name pytest would otherwise try to collect

    idempotency_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_method_ref: Mapped[str] = mapped_column(String(255))
    amount_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    # "succeeded", "declined" or "error"
    outcome: Mapped[str] = mapped_column(String(16))
    decline_code: Mapped[str | None] = mapped_column(String(64))
    charge_ref: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
