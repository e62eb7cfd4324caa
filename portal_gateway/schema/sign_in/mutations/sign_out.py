"""signOut."""

from __future__ import annotations

import strawberry

from portal_gateway.resolvers import portal_sessions as session_resolvers
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import mutation
from portal_gateway.schema.permissions import IsCustomer


@strawberry.type
class SignOutPayload:
    ok: bool


async def sign_out(info: Info) -> SignOutPayload:
    await session_resolvers.sign_out(info.context)
    return SignOutPayload(ok=True)


field = mutation(
    sign_out, description="Ends the current portal session.", permission_classes=[IsCustomer]
)
