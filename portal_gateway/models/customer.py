"""A customer's record with one business, and its credit balances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.core import clock
from portal_gateway.models.base import (
    Base,
    created_at_column,
    currency_column,
    id_column,
    money_column,
)


class CustomerAccount(Base):
    __tablename__ = "customer_accounts"
    __table_args__ = (
        UniqueConstraint("business_id", "email_normalized"),
        Index("ix_customer_accounts_email_normalized", "email_normalized"),
        Index("ix_customer_accounts_business_created", "business_id", "created_at", "id"),
    )

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    # As given (where mail goes) and normalized (what every match uses).
    email: Mapped[str] = mapped_column(String(320))
    email_normalized: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    address_city: Mapped[str | None] = mapped_column(String(100))
    address_state: Mapped[str | None] = mapped_column(String(100))
    address_postal_code: Mapped[str | None] = mapped_column(String(20))
    address_country: Mapped[str | None] = mapped_column(String(2))
    # The buyer's tax registration (e.g. a VAT id), printed on invoices issued after it is set.
    tax_id: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class CreditBalance(Base):
    """Credit from downgrades in one currency, used first by later invoices."""

    __tablename__ = "credit_balances"
    __table_args__ = (UniqueConstraint("account_id", "currency"),)

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("customer_accounts.id"))
    currency: Mapped[str] = currency_column()
    amount_minor: Mapped[int] = money_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
