"""requestSignInLink: used by the mutation and by the sign-in pages alike."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import Principal
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.core.errors import DomainError, InvalidInputError, RateLimitedError
from portal_gateway.core.ids import decode_global_id
from portal_gateway.db import Database
from portal_gateway.resolvers.unit_of_work import in_unit_of_work
from portal_gateway.services import sign_in


async def request_sign_in_link(
    db: Database,
    rate_limits: RateLimits,
    principal: Principal,
    client_address: str | None,
    *,
    email: str,
    business_id: str | None,
) -> bool | DomainError:
    """True for every well-formed email, known or not: the lookup happens when the
    outbox sends, so the answer is the same bytes, in the same time, for everyone."""
    business = None
    if business_id is not None:
        decoded = decode_global_id(business_id)
        business = decoded[1] if decoded is not None and decoded[0] == "Business" else None

    async def work(session: AsyncSession) -> bool:
        limited = await rate_limits.hit_all(("sign_in_link:client", client_address))
        normalized = sign_in.checked_email(email) if limited is None else ""
        limited = limited or await rate_limits.hit_all(("sign_in_link:email", normalized))
        if limited is not None:
            raise RateLimitedError(limited.retry_after_seconds)
        if business_id is not None and business is None:
            raise InvalidInputError("businessId is not a business's id.", field="businessId")
        await sign_in.request_sign_in_link(session, normalized, business)
        return True

    return await in_unit_of_work(
        db,
        principal,
        client_address,
        "requestSignInLink",
        work,
        target_type="Business" if business else None,
        target_id=business,
    )
