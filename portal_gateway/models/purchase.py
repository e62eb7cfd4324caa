"""Something bought: a one-time product, or the first payment of a subscription."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.models.base import (
    Base,
    created_at_column,
    currency_column,
    enum_column,
    id_column,
    money_column,
)
from portal_gateway.models.enums import PurchaseStatus


class Purchase(Base):
    __tablename__ = "purchases"
    __table_args__ = (Index("ix_purchases_account_created", "account_id", "created_at", "id"),)

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("customer_accounts.id"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    subscription_id: Mapped[str | None] = mapped_column(ForeignKey("subscriptions.id"))
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    total_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    status: Mapped[PurchaseStatus] = mapped_column(enum_column(PurchaseStatus))
    purchased_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()
