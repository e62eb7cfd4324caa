"""One row per mutation, and per refused request: who did what to which object, with what
result."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.models.base import Base, created_at_column, id_column


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_business_created", "business_id", "created_at"),)

    id: Mapped[str] = id_column()
    # "merchant", "portal_session" or "anonymous", and that principal's id.
    principal_type: Mapped[str] = mapped_column(String(32))
    principal_id: Mapped[str | None] = mapped_column(String(64))
    # A portal session's scope: UNIFIED or BUSINESS.
    scope: Mapped[str | None] = mapped_column(String(16))
    business_id: Mapped[str | None] = mapped_column(ForeignKey("businesses.id"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    # "ok" or the error code the caller received.
    result: Mapped[str] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
