"""The one place where a principal becomes a SQL condition.

Every loader and service narrows its selects through `scoped`, so what is out
of scope never leaves the database: it is indistinguishable from not existing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, inspect, select
from sqlalchemy.orm import QueryableAttribute

from portal_gateway.auth.principal import MerchantPrincipal, PortalPrincipal, Principal
from portal_gateway.models import Business, CustomerAccount
from portal_gateway.models.enums import PortalScope

S = TypeVar("S", bound=Select[Any])


def _accounts_of_email(email_normalized: str) -> Select[str]:
    return select(CustomerAccount.id).where(CustomerAccount.email_normalized == email_normalized)


def _businesses_of_email(email_normalized: str) -> Select[str]:
    return select(CustomerAccount.business_id).where(
        CustomerAccount.email_normalized == email_normalized
    )


def account_condition(
    principal: Principal,
    account_id: QueryableAttribute[str] | QueryableAttribute[str | None],
    business_id: QueryableAttribute[str] | QueryableAttribute[str | None],
) -> ColumnElement[bool]:
    """Rows that belong to a customer account the principal may see."""
    if isinstance(principal, MerchantPrincipal):
        return business_id == principal.business_id
    if isinstance(principal, PortalPrincipal):
        if principal.scope is PortalScope.BUSINESS:
            return account_id == principal.account_id
        return account_id.in_(_accounts_of_email(principal.email_normalized))
    return false()


def business_condition(
    principal: Principal,
    business_id: QueryableAttribute[str] | QueryableAttribute[str | None],
) -> ColumnElement[bool]:
    """Rows of a business the principal may see (its catalogue, its settings)."""
    if isinstance(principal, MerchantPrincipal):
        return business_id == principal.business_id
    if isinstance(principal, PortalPrincipal):
        if principal.scope is PortalScope.BUSINESS:
            return business_id == principal.business_id
        return business_id.in_(_businesses_of_email(principal.email_normalized))
    return false()


def scope_condition(model: Any, principal: Principal) -> ColumnElement[bool]:
    """The condition for rows of `model` (a table's entity or an alias of it): by account
    where it has one, else by business."""
    mapped = inspect(model).mapper.class_
    if mapped is CustomerAccount:
        return account_condition(principal, model.id, model.business_id)
    if mapped is Business:
        return business_condition(principal, model.id)
    if hasattr(model, "account_id"):
        return account_condition(principal, model.account_id, model.business_id)
    return business_condition(principal, model.business_id)


def scoped(stmt: S, model: type[Any], principal: Principal) -> S:
    """`stmt` narrowed to the rows of `model` that `principal` may see."""
    return stmt.where(scope_condition(model, principal))
