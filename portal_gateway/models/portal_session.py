"""Sign-in links (stored as hashes, single use) and the portal sessions they open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.models.base import Base, created_at_column, enum_column, id_column
from portal_gateway.models.enums import LinkKind, PortalFlowType, PortalScope


class LinkToken(Base):
    __tablename__ = "link_tokens"

    id: Mapped[str] = id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[LinkKind] = mapped_column(enum_column(LinkKind))
    scope: Mapped[PortalScope] = mapped_column(enum_column(PortalScope))
    # BUSINESS scope: the business and the one account; UNIFIED: neither.
    business_id: Mapped[str | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("customer_accounts.id"))
    email_normalized: Mapped[str] = mapped_column(String(320))
    flow_type: Mapped[PortalFlowType | None] = mapped_column(enum_column(PortalFlowType))
    flow_subscription_id: Mapped[str | None] = mapped_column(ForeignKey("subscriptions.id"))
    return_url: Mapped[str | None] = mapped_column(String(2000))
    expires_at: Mapped[datetime]
    # Set by the one conditional UPDATE that redeems it: single use under concurrency.
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class PortalSession(Base):
    __tablename__ = "portal_sessions"

    id: Mapped[str] = id_column()
    scope: Mapped[PortalScope] = mapped_column(enum_column(PortalScope))
    business_id: Mapped[str | None] = mapped_column(ForeignKey("businesses.id"))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("customer_accounts.id"))
    email_normalized: Mapped[str] = mapped_column(String(320), index=True)
    link_token_id: Mapped[str] = mapped_column(ForeignKey("link_tokens.id"), unique=True)
    flow_type: Mapped[PortalFlowType | None] = mapped_column(enum_column(PortalFlowType))
    flow_subscription_id: Mapped[str | None] = mapped_column(ForeignKey("subscriptions.id"))
    return_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
