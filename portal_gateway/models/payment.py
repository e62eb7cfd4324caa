"""Every charge attempt is a Payment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.core import clock
from portal_gateway.models.base import (
    Base,
    created_at_column,
    currency_column,
    enum_column,
    id_column,
    money_column,
)
from portal_gateway.models.enums import PaymentStatus


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_account_created", "account_id", "created_at", "id"),
        # At most one charge in flight per subscription: a second one cannot start
        # while the first is unsettled, which is what rules out a double charge.
        Index(
            "uq_payments_one_pending_per_subscription",
            "subscription_id",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
    )

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("customer_accounts.id"))
    subscription_id: Mapped[str | None] = mapped_column(ForeignKey("subscriptions.id"))
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    payment_method_id: Mapped[str | None] = mapped_column(ForeignKey("payment_methods.id"))
    amount_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    status: Mapped[PaymentStatus] = mapped_column(enum_column(PaymentStatus))
    # What this charge is for (e.g. "plan_change", "dues"), to settle it after a crash.
    purpose: Mapped[str] = mapped_column(String(32), default="charge")
    processor_ref: Mapped[str | None] = mapped_column(String(255))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    # What completing this charge does (e.g. the plan change it pays for): written with the
    # PENDING payment, so that reconcile can finish the work after a crash.
    details: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
