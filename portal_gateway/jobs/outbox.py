"""Delivering the outbox: the dispatcher with this service's composers, and its loop."""

from __future__ import annotations

import asyncio
import logging

from portal_gateway.notifications.dispatcher import Dispatcher
from portal_gateway.resources import Resources
from portal_gateway.services import sign_in

log = logging.getLogger(__name__)


def dispatcher_for(resources: Resources) -> Dispatcher:
    """The outbox dispatcher with the sign-in composers and the configured backend."""
    settings = resources.settings
    return Dispatcher(
        resources.db,
        resources.email_backend,
        sign_in.composers(settings.link_base_url),
        sender=settings.email_from,
    )


async def deliver_forever(dispatcher: Dispatcher, poll_seconds: float) -> None:
    """Deliver what is due, then look again every `poll_seconds` (at once while busy)."""
    while True:
        try:
            if await dispatcher.run_once():
                continue
        except Exception:  # the loop must outlive a database hiccup; the next poll retries
            log.exception("outbox dispatcher: claim failed")
        await asyncio.sleep(poll_seconds)
