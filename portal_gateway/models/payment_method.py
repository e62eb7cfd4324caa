"""A saved card: the processor's reference and what may be shown, never the number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.core.cards import CardBrand
from portal_gateway.models.base import Base, created_at_column, enum_column, id_column


class PaymentMethod(Base):
    __tablename__ = "payment_methods"
    __table_args__ = (Index("ix_payment_methods_account_created", "account_id", "created_at"),)

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("customer_accounts.id"))
    processor_ref: Mapped[str] = mapped_column(String(255))
    brand: Mapped[CardBrand] = mapped_column(enum_column(CardBrand))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    detached_at: Mapped[datetime | None]
