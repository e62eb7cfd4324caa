"""Messages to deliver (emails, later webhooks), written in the transaction they report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.core import clock
from portal_gateway.models.base import Base, created_at_column, enum_column, id_column
from portal_gateway.models.enums import OutboxStatus


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[str] = id_column()
    # "email" now; "webhook" later. The template or event name says what it is.
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(2000))
    # Fixed when queued, so a resend after a crash is recognizably the same message.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # What the template needs; purged once sent.
    payload: Mapped[dict[str, object] | None] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
