"""Portal sessions as principals: a live session row becomes a PortalPrincipal."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import DateTime, Select, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import PortalPrincipal
from portal_gateway.core import clock
from portal_gateway.db import RawStatement
from portal_gateway.models import PortalSession
from portal_gateway.models.enums import PortalFlowType, PortalScope


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


def live_session(session_id: Any, now: Any) -> Select[PortalSession]:
    """The session `session_id` while it is live: not revoked, not expired at `now`."""
    return select(PortalSession).where(
        PortalSession.id == session_id,
        PortalSession.revoked_at.is_(None),
        PortalSession.expires_at > now,
    )


async def load_principal(session: AsyncSession, session_id: str) -> PortalPrincipal | None:
    """The principal of a live (unrevoked, unexpired) portal session."""
    row = await session.scalar(live_session(session_id, clock.now()))
    return principal_of(row) if row else None


_PRINCIPAL_COLUMNS = (
    "id", "scope", "email_normalized", "business_id", "account_id", "flow_type",
    "flow_subscription_id", "return_url",
)  # fmt: skip
_LIVE_SESSION = RawStatement.of(
    live_session(
        bindparam("session_id", type_=String()), bindparam("now", type_=DateTime(timezone=True))
    ).with_only_columns(*(getattr(PortalSession, name) for name in _PRINCIPAL_COLUMNS))
)


async def load_principal_raw(
    connection: asyncpg.Connection, session_id: str
) -> PortalPrincipal | None:
    """load_principal on a raw asyncpg connection (PostgreSQL): the same statement, without
    an ORM session around it, for the check that every request makes."""
    rows = await _LIVE_SESSION.fetch(connection, {"session_id": session_id, "now": clock.now()})
    if not rows:
        return None
    row = rows[0]
    return PortalPrincipal(
        session_id=row["id"],
        scope=PortalScope[row["scope"]],
        email_normalized=row["email_normalized"],
        business_id=row["business_id"],
        account_id=row["account_id"],
        flow_type=PortalFlowType[row["flow_type"]] if row["flow_type"] else None,
        flow_subscription_id=row["flow_subscription_id"],
        return_url=row["return_url"],
    )
