"""The Starlette application, composed: the schema, the web wing's routes and middleware,
and a lifespan that opens the process's resources and runs its background jobs."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette

from portal_gateway import jobs
from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.resources import Resources, open_resources
from portal_gateway.schema import build_schema
from portal_gateway.services.logos import LogoFetcher
from portal_gateway.web.routes import middleware, routes


class State(TypedDict):
    """The lifespan's state: every request finds it in `request.state`."""

    resources: Resources


def tune_garbage_collector() -> None:
    """A dashboard request makes ~100k short-lived objects; with the default thresholds
    the cyclic collector ran so often that it took 45% of a request (bench/dashboard.py:
    155 ms a request; freezing what start-up made and collecting less often: 99 ms)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    *,
    background: bool = True,
    logos: LogoFetcher | None = None,
) -> Starlette:
    """The app. `background`: run the process's background work (outbox delivery, reconcile)
    and tune the collector, as `serve` does; tests that drive the app in-process leave it
    off and deliver mail themselves. `logos`: how logos are fetched (tests stay on
    loopback)."""
    settings = settings or Settings()
    schema = build_schema(
        introspection=settings.introspection_enabled, field_suggestions=not settings.is_live
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            resources = await stack.enter_async_context(open_resources(settings, db, logos=logos))
            if background:
                tune_garbage_collector()
                await stack.enter_async_context(jobs.running(resources))
            yield {"resources": resources}

    return Starlette(
        routes=routes(settings, schema), middleware=middleware(settings), lifespan=lifespan
    )
