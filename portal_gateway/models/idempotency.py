"""Idempotency keys of mutations that charge: one result per (account, mutation, key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.models.base import Base, created_at_column, id_column


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "mutation", "key"),)

    id: Mapped[str] = id_column()
    account_id: Mapped[str] = mapped_column(ForeignKey("customer_accounts.id"))
    mutation: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the canonical input: the same key with other input is a conflict.
    request_hash: Mapped[str] = mapped_column(String(64))
    # Ids of what the first call produced, re-read under the caller's scope on a retry.
    result: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)
