"""Invoice numbers: per business, prefix, year of issue and a running sequence that never
resets, skips or repeats, even under concurrency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.models import Business


async def allocate_invoice_number(
    session: AsyncSession, business_id: str, issued_at: datetime
) -> tuple[int, str]:
    """The business's next sequence and number, e.g. (42, "ACME-2026-000042").

    One UPDATE … RETURNING raises the counter: concurrent transactions queue on
    the row, so sequences never repeat or skip, and a rolled-back charge gives
    its number back with the rest of its transaction.
    """
    sequence, prefix = (
        await session.execute(
            update(Business)
            .where(Business.id == business_id)
            .values(invoice_sequence=Business.invoice_sequence + 1)
            .returning(Business.invoice_sequence, Business.invoice_prefix)
        )
    ).one()
    return sequence, f"{prefix}-{issued_at.year}-{sequence:06d}"
