"""Background work that `serve` runs in every process (and the CLI runs once): delivering
the outbox, renewing what is due, settling charges a crash left PENDING, and making the
invoice fonts once. Each is safe to
run in many processes at once; each calls services, never the GraphQL layer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from portal_gateway.jobs.fonts import prepare_in_background
from portal_gateway.jobs.outbox import deliver_forever, dispatcher_for
from portal_gateway.jobs.reconcile import reconcile_forever
from portal_gateway.jobs.renewals import renew_forever
from portal_gateway.resources import Resources
from portal_gateway.services.reconciliation import RECONCILE_GRACE, reconcile_pending_payments

log = logging.getLogger(__name__)


@asynccontextmanager
async def running(resources: Resources) -> AsyncIterator[None]:
    """Settle what a crash left before serving, then keep the jobs going until exit. A
    database or processor that cannot be reached at start-up does not keep the service from
    starting: the periodic round tries again."""
    try:
        await reconcile_pending_payments(
            resources.db, resources.processor, older_than=RECONCILE_GRACE
        )
    except Exception:
        log.exception("reconcile at start-up failed; the next round retries")
    fonts = prepare_in_background(resources.settings.font_cache_path)
    tasks = [
        asyncio.create_task(
            deliver_forever(dispatcher_for(resources), resources.settings.outbox_poll_seconds)
        ),
        asyncio.create_task(reconcile_forever(resources.db, resources.processor)),
        asyncio.create_task(
            renew_forever(resources.db, resources.processor, resources.settings.renew_every_seconds)
        ),
    ]
    try:
        yield
    finally:
        fonts.terminate()
        for task in tasks:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
