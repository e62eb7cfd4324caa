"""Customer accounts: a customer's record with one business."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import MerchantPrincipal, Principal
from portal_gateway.core.emails import match_key
from portal_gateway.core.errors import NotFoundError
from portal_gateway.models import CustomerAccount
from portal_gateway.queries.readable import readable


def viewer_accounts(principal: Principal) -> Select[CustomerAccount]:
    """The signed-in person's accounts, the most recently updated first (whose name and
    phone stand for the person)."""
    return readable(CustomerAccount, principal).order_by(
        CustomerAccount.updated_at.desc(), CustomerAccount.id
    )


def customers(principal: MerchantPrincipal, email: str | None) -> Select[CustomerAccount]:
    """A business's customers, or the one with `email`."""
    stmt = readable(CustomerAccount, principal)
    if email is not None:
        stmt = stmt.where(CustomerAccount.email_normalized == match_key(email))
    return stmt


async def account_in_scope(
    session: AsyncSession,
    principal: Principal,
    account_id: str,
    *,
    for_update: bool = False,
    missing: str = "No such account.",
) -> CustomerAccount:
    """The account, or NotFoundError(`missing`): out of scope is the same as absent."""
    stmt = readable(CustomerAccount, principal).where(CustomerAccount.id == account_id)
    account = await session.scalar(stmt.with_for_update() if for_update else stmt)
    if account is None:
        raise NotFoundError(missing)
    return account
