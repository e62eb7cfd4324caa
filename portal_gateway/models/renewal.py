"""A renewal's claim: one row per (subscription, period start), so that however many
processes run renewals, and however often, each period is charged at most once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.core import clock
from portal_gateway.models.base import Base, created_at_column, enum_column, id_column
from portal_gateway.models.enums import RenewalStatus


class RenewalClaim(Base):
    __tablename__ = "renewal_claims"
    __table_args__ = (UniqueConstraint("subscription_id", "period_start"),)

    id: Mapped[str] = id_column()
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"))
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    # The period this renewal pays for.
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    status: Mapped[RenewalStatus] = mapped_column(enum_column(RenewalStatus))
    # Charge attempts so far: each its own Payment (a processor error is tried again).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The payment that settled it: the one that paid, or the decline that put it on hold.
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"))
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
