"""A subscription: what is paid, how often, in which state, and what is owed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
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
from portal_gateway.models.enums import BillingInterval, SubscriptionStatus


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_account_created", "account_id", "created_at", "id"),
        Index("ix_subscriptions_business_created", "business_id", "created_at", "id"),
    )

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("customer_accounts.id"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    status: Mapped[SubscriptionStatus] = mapped_column(enum_column(SubscriptionStatus))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    # The price per unit at which this subscription renews (kept when the product's changes).
    unit_price_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    billing_interval: Mapped[BillingInterval] = mapped_column(enum_column(BillingInterval))
    current_period_start: Mapped[datetime]
    current_period_end: Mapped[datetime]
    # A fixed term ends here (EXPIRED); None renews until cancelled.
    ends_at: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at: Mapped[datetime | None]
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    payment_method_id: Mapped[str | None] = mapped_column(ForeignKey("payment_methods.id"))
    # What a failed renewal left unpaid (ON_HOLD), in minor units of `currency`.
    dues_minor: Mapped[int] = money_column(default=0)
    # The invoice lines of what is owed, as the declined renewal priced them: the invoice of
    # the dues, once paid, shows them (None for dues recorded before lines were kept).
    dues_lines: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    last_decline_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
