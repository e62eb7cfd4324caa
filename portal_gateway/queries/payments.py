"""Payments and the saved cards that make them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, case

from portal_gateway.auth.principal import Principal
from portal_gateway.models import PaymentMethod
from portal_gateway.models.enums import PaymentStatus
from portal_gateway.queries.readable import readable


def saved_cards(principal: Principal, *, business_id: str | None = None) -> Select[PaymentMethod]:
    """The cards still attached, newest first."""
    return (
        readable(PaymentMethod, principal, business_id=business_id)
        .where(PaymentMethod.detached_at.is_(None))
        .order_by(PaymentMethod.created_at.desc(), PaymentMethod.id.desc())
    )


def settling_first(payment: Any) -> tuple[ColumnElement[Any], ...]:
    """An invoice's payments, the one that settled it first: the latest successful one,
    else the latest. `payment` is the Payment entity or an alias of it."""
    succeeded_first = case((payment.status == PaymentStatus.SUCCEEDED, 0), else_=1)
    return succeeded_first, payment.created_at.desc(), payment.id.desc()
