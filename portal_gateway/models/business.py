"""A merchant on the platform, its settings and its API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
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
