"""Delivers the outbox: at least once, one claim per message, retries with backoff.

Several processes may run a dispatcher at once. A claim is one UPDATE that
moves due messages to SENDING (with FOR UPDATE SKIP LOCKED on PostgreSQL; on
SQLite the single writer makes the UPDATE itself exclusive). A message whose
sender died after sending but before marking it sent stays SENDING; once its
lease runs out it is claimed again and sent again, with the Message-ID fixed
when it was queued, so the resend is recognizably the same mail.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.core import clock
from portal_gateway.db import Database
from portal_gateway.models import OutboxMessage
from portal_gateway.models.enums import OutboxStatus
from portal_gateway.notifications.backends import EmailBackend
from portal_gateway.notifications.outbox import Email
from portal_gateway.notifications.rendering import render

log = logging.getLogger(__name__)

# What a job (a message whose content is decided at send time) becomes: an email,
# or None when there is nothing to send (e.g. a sign-in request for an unknown email).
Composer = Callable[[AsyncSession, dict[str, Any]], Awaitable[Email | None]]

# What a message on another channel than "email" does when delivered (e.g. detach a card
# at the processor); raising means "try again later".
Action = Callable[[Mapping[str, Any]], Awaitable[None]]

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
BATCH = 20
EMAIL = "email"


def backoff(attempt: int) -> timedelta:
    """30 s, 1 min, 2 min, … up to an hour between attempts."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempt - 1)))


class Dispatcher:
    def __init__(
        self,
        db: Database,
        backend: EmailBackend,
        composers: Mapping[str, Composer],
        *,
        sender: str,
        name: str | None = None,
        actions: Mapping[str, Action] | None = None,
    ) -> None:
        self.db = db
        self.backend = backend
        self.composers = composers
        self.actions = actions or {}
        self.sender = sender
        self.name = name or f"{os.getpid()}-{uuid.uuid4().hex[:6]}"

    async def run_once(self) -> int:
        """Claim and deliver what is due; the number of messages handled."""
        claimed = await self._claim()
        for message_id in claimed:
            await self._deliver(message_id)
        return len(claimed)

    async def drain(self) -> int:
        """Deliver until nothing is due (the `outbox drain` command)."""
        total = 0
        while handled := await self.run_once():
            total += handled
        return total

    async def _claim(self) -> list[str]:
        now = clock.now()
        due = (
            select(OutboxMessage.id)
            .where(
                or_(
                    and_(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.next_attempt_at <= now,
                    ),
                    and_(
                        OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.claimed_at < now - LEASE,
                    ),
                )
            )
            .order_by(OutboxMessage.next_attempt_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        async with self.db.transaction() as session:
            rows = await session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due.scalar_subquery()))
                .values(
                    status=OutboxStatus.SENDING,
                    claimed_by=self.name,
                    claimed_at=now,
                    attempts=OutboxMessage.attempts + 1,
                )
                .returning(OutboxMessage.id)
            )
            return list(rows)

    async def _deliver(self, message_id: str) -> None:
        email: Email | None = None
        async with self.db.transaction() as session:
            message = await session.get_one(OutboxMessage, message_id)
            smtp_id, attempts = message.message_id, message.attempts
            action = (message.kind, dict(message.payload or {}))
            if message.channel == EMAIL:
                # A composer runs in its own committed transaction: a link it mints must
                # exist before the mail that carries it leaves.
                email = await self._compose(session, message)
        if message.channel != EMAIL:
            await self._act(message_id, *action, attempts)
            return
        try:
            if email is not None:
                await self.backend.send(render(email, sender=self.sender, message_id=smtp_id))
        except Exception as error:  # any delivery failure is retried; the detail is logged
            log.warning("outbox %s: delivery attempt %s failed: %s", message_id, attempts, error)
            await self._retry_later(message_id, attempts, error)
            return
        await self._mark_sent(message_id, delivered=email is not None)

    async def _act(
        self, message_id: str, kind: str, payload: Mapping[str, Any], attempts: int
    ) -> None:
        """A call rather than a mail: done once it succeeds, retried (never given up on)
        until then."""
        try:
            await self.actions[kind](payload)
        except Exception as error:  # any failure is retried; the detail is logged
            log.warning("outbox %s: %s attempt %s failed: %s", message_id, kind, attempts, error)
            await self._retry_later(message_id, attempts, error, give_up=False)
            return
        await self._mark_sent(message_id, delivered=True)

    async def _compose(self, session: AsyncSession, message: OutboxMessage) -> Email | None:
        payload: dict[str, Any] = message.payload or {}
        if message.kind.startswith("email:"):
            context: dict[str, Any] = payload.get("context") or {}
            return Email(
                recipient=message.recipient,
                template=str(payload["template"]),
                locale=str(payload.get("locale", "en")),
                context=context,
            )
        composer = self.composers[message.kind]
        return await composer(session, payload)

    async def _mark_sent(self, message_id: str, *, delivered: bool) -> None:
        """Done: the body is purged; so is the address when nothing was sent to it (a sign-in
        request for an email that is no customer's must not stay on file)."""
        values: dict[str, Any] = {
            "status": OutboxStatus.SENT,
            "sent_at": clock.now(),
            "payload": None,
        }
        if not delivered:
            values["recipient"] = ""
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == self.name)
                .values(**values)
            )

    async def _retry_later(
        self, message_id: str, attempts: int, error: Exception, *, give_up: bool = True
    ) -> None:
        final = give_up and attempts >= MAX_ATTEMPTS
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == self.name)
                .values(
                    status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
                    next_attempt_at=clock.now() + backoff(attempts),
                    last_error=f"{type(error).__name__}: {error}"[:500],
                )
            )
