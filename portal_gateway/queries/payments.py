"""Payments and the saved cards that make them."""

from __future__ import annotations

from sqlalchemy import Select

from portal_gateway.auth.principal import Principal
from portal_gateway.models import PaymentMethod
from portal_gateway.queries.readable import readable


def saved_cards(principal: Principal, *, business_id: str | None = None) -> Select[PaymentMethod]:
    """The cards still attached, newest first."""
    return (
        readable(PaymentMethod, principal, business_id=business_id)
        .where(PaymentMethod.detached_at.is_(None))
        .order_by(PaymentMethod.created_at.desc(), PaymentMethod.id.desc())
    )
