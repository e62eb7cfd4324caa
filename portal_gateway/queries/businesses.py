"""Businesses."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.models import Business


async def business_by_id(session: AsyncSession, business_id: str) -> Business | None:
    """A business as a public page shows it (a static sign-in link names it): unscoped, since
    nobody is signed in there, and used for its name and branding only."""
    return await session.get(Business, business_id)


def listing_order(name: str, business_id: str) -> tuple[str, str]:
    """Where a business stands in a customer's list of businesses: by name, as Python
    compares strings (the same on every database and collation), then by id."""
    return name, business_id
