"""Refusals at a field's door, for the audit trail: who tried what they may not."""

from __future__ import annotations

from portal_gateway.resolvers.context import Context
from portal_gateway.services import audit


async def record_refusal(ctx: Context, action: str, code: str) -> None:
    await audit.record_refusal(ctx.resources.db, ctx.principal, action, code, ctx.client_address)
