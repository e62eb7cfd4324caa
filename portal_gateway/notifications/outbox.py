"""Writing to the outbox, in the transaction of the change the message reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.models import OutboxMessage
from portal_gateway.models.enums import OutboxStatus

MESSAGE_ID_DOMAIN = "portal-gateway"


@dataclass(frozen=True)
class Email:
    """A message ready to render: whom, which template, in which language, with what."""

    recipient: str
    template: str
    locale: str
    context: dict[str, Any] = field(default_factory=dict)


async def queue_email(session: AsyncSession, email: Email) -> OutboxMessage:
    """An email to send as it is."""
    return await queue_job(
        session,
        kind=f"email:{email.template}",
        recipient=email.recipient,
        payload={"template": email.template, "locale": email.locale, "context": email.context},
    )


async def queue_job(
    session: AsyncSession,
    *,
    kind: str,
    recipient: str,
    payload: dict[str, Any],
    channel: str = "email",
) -> OutboxMessage:
    """A message whose content a composer decides when it is sent (e.g. a sign-in link,
    minted then, so that no live link waits in the table); on another channel than "email",
    a call that an action makes (e.g. detaching a card at the processor), retried until it
    succeeds."""
    message = OutboxMessage(
        channel=channel,
        kind=kind,
        recipient=recipient,
        message_id=f"<{uuid.uuid4().hex}@{MESSAGE_ID_DOMAIN}>",
        payload=payload,
        status=OutboxStatus.PENDING,
    )
    session.add(message)
    await session.flush()
    return message
