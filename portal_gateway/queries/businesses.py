"""Businesses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.models import Business


async def business_name(session: AsyncSession, business_id: str) -> str | None:
    """The name a public page shows for a business (a static sign-in link names it); unscoped,
    since nobody is signed in there, and nothing but the name."""
    return await session.scalar(select(Business.name).where(Business.id == business_id))
