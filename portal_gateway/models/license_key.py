"""License keys that came with a purchase."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.models.base import Base, created_at_column, enum_column, id_column
from portal_gateway.models.enums import LicenseKeyStatus


class LicenseKey(Base):
    __tablename__ = "license_keys"
    __table_args__ = (Index("ix_license_keys_account_created", "account_id", "created_at", "id"),)

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("customer_accounts.id"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    purchase_id: Mapped[str | None] = mapped_column(ForeignKey("purchases.id"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[LicenseKeyStatus] = mapped_column(enum_column(LicenseKeyStatus))
    activations_limit: Mapped[int | None] = mapped_column(Integer)
    activations_used: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
