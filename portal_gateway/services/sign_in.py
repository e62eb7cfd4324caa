"""Sign-in by email: the request (queued, answered the same for everyone) and the
composers that turn queued jobs into emails carrying a freshly minted link.

The request does the same work whether or not the email is known: it queues a
job. The dispatcher looks the email up when it sends, mints the one-time link
then, and sends nothing for an unknown email. So the answer, and its timing,
tell nobody whether an address is a customer, and no live link waits in the
outbox table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.core import clock
from portal_gateway.core.emails import InvalidEmailAddress, canonical_email, match_key
from portal_gateway.core.errors import InvalidInputError, RateLimitedError
from portal_gateway.core.ids import NO_SUCH_ID, customer_id
from portal_gateway.db import Database
from portal_gateway.models import Business, CustomerAccount, LinkToken
from portal_gateway.models.enums import LinkKind, PortalFlowType
from portal_gateway.notifications.dispatcher import Composer
from portal_gateway.notifications.outbox import Email, queue_job
from portal_gateway.services.links import MAX_LINK_LIFETIME, mint_link
from portal_gateway.services.unit_of_work import Actor, in_unit_of_work

SIGN_IN_JOB = "sign_in_request"
PORTAL_LINK_JOB = "portal_link"


def checked_email(raw: str, field: str = "email") -> str:
    """The canonical form of a well-formed address (core.emails), or InvalidInputError naming
    the field: a look-alike of another address is refused wherever an address comes in."""
    try:
        return canonical_email(raw)
    except InvalidEmailAddress:
        raise InvalidInputError(
            "Enter a valid email address.", field=field, code="INVALID_EMAIL"
        ) from None


async def request_sign_in_link(
    db: Database,
    rate_limits: RateLimits,
    actor: Actor,
    *,
    email: str,
    business_id: str | None,
    customer_id_secret: bytes,
) -> None:
    """requestSignInLink (the mutation and the sign-in pages): queue the job that emails a
    sign-in link if the email is a customer of `business_id` (a BUSINESS session), or of any
    business when it is None (a UNIFIED session). The same answer, after the same work, for
    every well-formed email, known or not; rate-limited per client address and per email."""

    async def work(session: AsyncSession) -> None:
        limited = await rate_limits.hit_all(("sign_in_link:client", actor.client_address))
        normalized = checked_email(email) if limited is None else ""
        limited = limited or await rate_limits.hit_all(("sign_in_link:email", normalized))
        if limited is not None:
            raise RateLimitedError(limited.retry_after_seconds)
        if business_id == NO_SUCH_ID:
            raise InvalidInputError("businessId is not a business's id.", field="businessId")
        await _queue_sign_in_job(session, normalized, email.strip(), business_id)

    # The audit names the person as Customer.id does, an HMAC of the address: never the
    # address itself, which may be nobody's.
    await in_unit_of_work(
        db, actor, "requestSignInLink", work, target_type="Customer",
        target_id=customer_id(match_key(email), customer_id_secret),
    )  # fmt: skip


async def _queue_sign_in_job(
    session: AsyncSession, email_normalized: str, address: str, business_id: str | None
) -> None:
    await queue_job(
        session,
        kind=SIGN_IN_JOB,
        recipient=email_normalized,
        # The address as the person typed it: the link goes there and nowhere else (a
        # business controls the variant it stores).
        payload={"email": email_normalized, "address": address, "business_id": business_id},
    )


async def queue_portal_link_email(session: AsyncSession, link: LinkToken) -> None:
    """Email the customer a link like `link` (createPortalSession with sendEmail). The
    emailed one is its own single-use token, minted when the mail leaves."""
    assert link.account_id is not None
    await queue_job(
        session,
        kind=PORTAL_LINK_JOB,
        recipient=link.email_normalized,
        payload={
            "account_id": link.account_id,
            "expires_at": link.expires_at.isoformat(),
            "flow_type": link.flow_type.value if link.flow_type else None,
            "flow_subscription_id": link.flow_subscription_id,
            "return_url": link.return_url,
        },
    )


def composers(base_url: str) -> dict[str, Composer]:
    """The dispatcher's composers for this module's jobs."""

    async def sign_in(session: AsyncSession, payload: dict[str, Any]) -> Email | None:
        return await compose_sign_in(session, payload, base_url=base_url)

    async def portal_link(session: AsyncSession, payload: dict[str, Any]) -> Email | None:
        return await compose_portal_link(session, payload, base_url=base_url)

    return {SIGN_IN_JOB: sign_in, PORTAL_LINK_JOB: portal_link}


async def compose_sign_in(
    session: AsyncSession, payload: dict[str, Any], *, base_url: str
) -> Email | None:
    email = str(payload["email"])
    business_id = payload.get("business_id")
    stmt = (
        select(CustomerAccount, Business.name)
        .join(Business, Business.id == CustomerAccount.business_id)
        .where(CustomerAccount.email_normalized == email)
        .order_by(CustomerAccount.updated_at.desc(), CustomerAccount.id)
    )
    if business_id:
        stmt = stmt.where(CustomerAccount.business_id == business_id)
    rows = (await session.execute(stmt)).all()
    if not rows:
        return None  # not a customer (there): nothing is sent, and nobody is told
    latest, business_name = rows[0]
    expires_at = clock.now() + MAX_LINK_LIFETIME
    if business_id:
        link = await mint_link(
            session, base_url=base_url, kind=LinkKind.EMAILED_BUSINESS,
            account=latest, expires_at=expires_at,
        )  # fmt: skip
    else:
        link = await mint_link(
            session, base_url=base_url, kind=LinkKind.EMAILED_UNIFIED,
            email_normalized=email, expires_at=expires_at,
        )  # fmt: skip
    return Email(
        recipient=str(payload.get("address") or email),
        template="sign_in",
        locale=latest.locale,
        context={
            "url": link.url,
            "expires_at": link.expires_at.isoformat(),
            "business_name": business_name if business_id else None,
            "business_names": sorted({name for _, name in rows}),
        },
    )


async def compose_portal_link(
    session: AsyncSession, payload: dict[str, Any], *, base_url: str
) -> Email | None:
    row = (
        await session.execute(
            select(CustomerAccount, Business.name)
            .join(Business, Business.id == CustomerAccount.business_id)
            .where(CustomerAccount.id == payload["account_id"])
        )
    ).first()
    expires_at = datetime.fromisoformat(str(payload["expires_at"]))
    if row is None or expires_at <= clock.now() + timedelta(minutes=1):
        return None  # the account is gone, or the link would arrive already expired
    account, business_name = row
    flow = payload.get("flow_type")
    link = await mint_link(
        session,
        base_url=base_url,
        kind=LinkKind.DYNAMIC,
        account=account,
        expires_at=expires_at,
        flow_type=PortalFlowType(flow) if flow else None,
        flow_subscription_id=payload.get("flow_subscription_id"),
        return_url=payload.get("return_url"),
    )
    return Email(
        recipient=account.email,
        template="portal_link",
        locale=account.locale,
        context={
            "url": link.url,
            "expires_at": expires_at.isoformat(),
            "business_name": business_name,
            "name": account.name,
        },
    )
