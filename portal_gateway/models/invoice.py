"""Invoices with their lines and the billing details they were issued with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.models.base import (
    Base,
    created_at_column,
    currency_column,
    enum_column,
    id_column,
    money_column,
)
from portal_gateway.models.enums import InvoiceStatus


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("business_id", "sequence"),
        UniqueConstraint("business_id", "number"),
        Index("ix_invoices_account_created", "account_id", "created_at", "id"),
        Index("ix_invoices_subscription_created", "subscription_id", "created_at", "id"),
    )

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("customer_accounts.id"))
    subscription_id: Mapped[str | None] = mapped_column(ForeignKey("subscriptions.id"))
    # ACME-2026-000042: the business's prefix, the year of issue, the running sequence.
    number: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int]
    status: Mapped[InvoiceStatus] = mapped_column(enum_column(InvoiceStatus))
    issued_at: Mapped[datetime]
    currency: Mapped[str] = currency_column()
    subtotal_minor: Mapped[int] = money_column()
    tax_minor: Mapped[int] = money_column()
    total_minor: Mapped[int] = money_column()
    # Credit from the account's balance applied to this invoice.
    credit_applied_minor: Mapped[int] = money_column(default=0)
    # The billing details as they were when issued: later edits do not rewrite history.
    billing_name: Mapped[str] = mapped_column(String(200))
    billing_email: Mapped[str] = mapped_column(String(320))
    billing_address_line1: Mapped[str | None] = mapped_column(String(200))
    billing_address_line2: Mapped[str | None] = mapped_column(String(200))
    billing_address_city: Mapped[str | None] = mapped_column(String(100))
    billing_address_state: Mapped[str | None] = mapped_column(String(100))
    billing_address_postal_code: Mapped[str | None] = mapped_column(String(20))
    billing_address_country: Mapped[str | None] = mapped_column(String(2))
    billing_tax_id: Mapped[str | None] = mapped_column(String(40))
    # The language of the document: the buyer's when issued.
    locale: Mapped[str] = mapped_column(String(16), default="en")
    # The seller as it was when issued, for the same reason.
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_address_line1: Mapped[str | None] = mapped_column(String(200))
    seller_address_line2: Mapped[str | None] = mapped_column(String(200))
    seller_address_city: Mapped[str | None] = mapped_column(String(100))
    seller_address_state: Mapped[str | None] = mapped_column(String(100))
    seller_address_postal_code: Mapped[str | None] = mapped_column(String(20))
    seller_address_country: Mapped[str | None] = mapped_column(String(2))
    seller_tax_id: Mapped[str | None] = mapped_column(String(40))
    seller_support_email: Mapped[str | None] = mapped_column(String(320))
    seller_website_url: Mapped[str | None] = mapped_column(String(2000))
    seller_logo_id: Mapped[str | None] = mapped_column(ForeignKey("business_logos.id"))
    created_at: Mapped[datetime] = created_at_column()


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (Index("ix_invoice_lines_invoice_position", "invoice_id", "position"),)

    id: Mapped[str] = id_column()
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_amount_minor: Mapped[int] = money_column()
    amount_minor: Mapped[int] = money_column()
    tax_minor: Mapped[int] = money_column(default=0)
    # The rate the line was taxed at when issued, in basis points: a later change of the
    # business's rate does not restate it.
    tax_rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    proration: Mapped[bool] = mapped_column(Boolean, default=False)
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
