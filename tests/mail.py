"""The outbox delivered into a folder, as the file backend does, and read back."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from portal_gateway.core.emails import match_key
from portal_gateway.db import Database
from portal_gateway.jobs.outbox import actions, composers
from portal_gateway.notifications.backends import FileBackend
from portal_gateway.notifications.dispatcher import Dispatcher
from portal_gateway.payments.processor import PaymentProcessor
from portal_gateway.payments.test_processor import TestProcessor


class Mailbox:
    """The outbox delivered into a folder, as the file backend does, and read back."""

    def __init__(
        self,
        db: Database,
        directory: Path,
        base_url: str,
        processor: PaymentProcessor | None = None,
    ) -> None:
        self.directory = directory
        self.dispatcher = Dispatcher(
            db,
            FileBackend(directory),
            composers(base_url),
            sender="Billing Portal <no-reply@portal.test>",
            actions=actions(processor or TestProcessor(db, live=False)),
        )

    async def deliver(self) -> int:
        return await self.dispatcher.drain()

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        found = []
        for path in sorted(self.directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            if to is None or match_key(str(message["To"])) == match_key(to):
                found.append(message)
        return found

    async def link_for(self, email: str) -> str:
        """Deliver, then the link in the one message to `email`."""
        await self.deliver()
        (message,) = self.messages(to=email)
        return link_in(message)


def link_in(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"https?://\S+/portal/link\?token=[\w-]+", body.get_content())
    assert match, body.get_content()
    return match.group(0)
