"""The base statement of every read: a table's rows that the principal may see."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, select

from portal_gateway.auth.principal import Principal
from portal_gateway.auth.scope import scoped

M = TypeVar("M")


def readable(model: type[M], principal: Principal, *, business_id: str | None = None) -> Select[M]:
    """Rows of `model` in the principal's scope; of one business when `business_id` is given."""
    stmt = scoped(select(model), model, principal)
    if business_id is not None:
        stmt = stmt.where(model.business_id == business_id)  # type: ignore[attr-defined]
    return stmt
