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
    limited = await rate_limits.hit_all(("sign_in_link:client", client_address))
    if limited is None:
        try:
            normalized = sign_in.checked_email(email)
        except InvalidInputError as error:
            return error
        limited = await rate_limits.hit_all(("sign_in_link:email", normalized))
    if limited is not None:
        return RateLimitedError(limited.retry_after_seconds)
    business: str | None = None
    if business_id is not None:
        decoded = decode_global_id(business_id)
        if decoded is None or decoded[0] != "Business":
            return InvalidInputError("businessId is not a business's id.", field="businessId")
        business = decoded[1]

    async def work(session: AsyncSession) -> bool:
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
