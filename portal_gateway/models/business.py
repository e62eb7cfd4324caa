"""A merchant on the platform, its settings and its API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.models.base import Base, created_at_column, enum_column, id_column
from portal_gateway.models.enums import ApiKeyMode


class Business(Base):
    __tablename__ = "businesses"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    logo_url: Mapped[str | None] = mapped_column(String(2000))
    support_email: Mapped[str | None] = mapped_column(String(320))
    website_url: Mapped[str | None] = mapped_column(String(2000))
    allow_subscription_updates: Mapped[bool] = mapped_column(Boolean, default=True)
    # Tax rate in basis points (1/100 of a percent) applied to taxable products.
    tax_rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    invoice_prefix: Mapped[str] = mapped_column(String(16))
    # The last invoice sequence issued: raised by one conditional UPDATE per invoice,
    # so numbers never repeat or skip, even under concurrency.
    invoice_sequence: Mapped[int] = mapped_column(default=0)
    default_locale: Mapped[str] = mapped_column(String(16), default="en")
    # Printed on invoices: where the business is and its tax registration (e.g. a VAT id).
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    address_city: Mapped[str | None] = mapped_column(String(100))
    address_state: Mapped[str | None] = mapped_column(String(100))
    address_postal_code: Mapped[str | None] = mapped_column(String(20))
    address_country: Mapped[str | None] = mapped_column(String(2))
    tax_id: Mapped[str | None] = mapped_column(String(40))
    # The image fetched once from logo_url, drawn on invoices (never fetched while drawing).
    # No foreign key: business_logos points back here, and SQLite cannot add a cycle later.
    logo_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_at_column()


class BusinessLogo(Base):
    """A logo as fetched when it was set: PNG bytes, never changed, so that an invoice issued
    with it keeps it after the business sets another."""

    __tablename__ = "business_logos"

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    source_url: Mapped[str] = mapped_column(String(2000))
    sha256: Mapped[str] = mapped_column(String(64))
    png: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()


class ApiKey(Base):
    """A merchant secret key. Only its SHA-256 hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    mode: Mapped[ApiKeyMode] = mapped_column(enum_column(ApiKeyMode))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, to tell keys apart in a dashboard without revealing them.
    display_prefix: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]
