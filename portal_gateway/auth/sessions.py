"""Portal sessions as principals: a live session row becomes a PortalPrincipal."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import PortalPrincipal
from portal_gateway.core import clock
from portal_gateway.models import PortalSession


def principal_of(row: PortalSession) -> PortalPrincipal:
    return PortalPrincipal(
        session_id=row.id,
        scope=row.scope,
        email_normalized=row.email_normalized,
        business_id=row.business_id,
        account_id=row.account_id,
        flow_type=row.flow_type,
        flow_subscription_id=row.flow_subscription_id,
        return_url=row.return_url,
    )


async def load_principal(session: AsyncSession, session_id: str) -> PortalPrincipal | None:
    """The principal of a live (unrevoked, unexpired) portal session."""
    row = await session.scalar(
        select(PortalSession).where(
            PortalSession.id == session_id,
            PortalSession.revoked_at.is_(None),
            PortalSession.expires_at > clock.now(),
        )
    )
    return principal_of(row) if row else None
