"""The audit trail: one event per mutation, in the mutation's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import (
    MerchantPrincipal,
    PortalPrincipal,
    Principal,
    principal_kind,
    principal_ref,
)
from portal_gateway.db import Database
from portal_gateway.models import AuditEvent


async def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    *,
    result: str,
    target_type: str | None = None,
    target_id: str | None = None,
    business_id: str | None = None,
    client_address: str | None = None,
) -> None:
    if business_id is None and isinstance(principal, MerchantPrincipal | PortalPrincipal):
        business_id = principal.business_id
    session.add(
        AuditEvent(
            principal_type=principal_kind(principal),
            principal_id=principal_ref(principal),
            scope=principal.scope.value if isinstance(principal, PortalPrincipal) else None,
            business_id=business_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            result=result,
            client_address=client_address,
        )
    )
    await session.flush()


async def record_refusal(
    db: Database, principal: Principal, action: str, code: str, client_address: str | None
) -> None:
    """A request refused at the door (UNAUTHENTICATED, FORBIDDEN), in a transaction of its
    own: who tried what, from where."""
    async with db.transaction() as session:
        await record(session, principal, action, result=code, client_address=client_address)
