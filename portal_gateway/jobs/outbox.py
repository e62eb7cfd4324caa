"""Delivering the outbox: the dispatcher with this service's composers, and its loop."""

from __future__ import annotations

import asyncio
import logging

from portal_gateway.notifications.dispatcher import Action, Composer, Dispatcher
from portal_gateway.payments.processor import PaymentProcessor
from portal_gateway.resources import Resources
from portal_gateway.services import cards, renewals, sign_in

log = logging.getLogger(__name__)


def composers(base_url: str) -> dict[str, Composer]:
    """What each job of this service's outbox becomes when it is sent."""
    return {**sign_in.composers(base_url), **renewals.composers(base_url)}


def actions(processor: PaymentProcessor) -> dict[str, Action]:
    """What each call of this service's outbox does."""
    return {cards.DETACH_JOB: cards.detach_action(processor)}


def dispatcher_for(resources: Resources) -> Dispatcher:
    """The outbox dispatcher with this service's composers and actions, and the configured
    backend."""
    settings = resources.settings
    return Dispatcher(
        resources.db,
        resources.email_backend,
        composers(settings.link_base_url),
        sender=settings.email_from,
        actions=actions(resources.processor),
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
