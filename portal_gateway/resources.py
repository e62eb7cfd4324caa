"""What a process opens once and shares: settings, database, token keys, rate limits, the
payment processor and the email backend. One typed object, opened by the app's lifespan
(and by CLI commands), handed to pages, the GraphQL context and background jobs alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from portal_gateway.auth.access_tokens import AccessTokens
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.notifications.backends import EmailBackend, backend_from_settings
from portal_gateway.payments import processor_from_settings
from portal_gateway.payments.processor import PaymentProcessor


@dataclass(frozen=True)
class Resources:
    settings: Settings
    db: Database
    access_tokens: AccessTokens
    rate_limits: RateLimits
    processor: PaymentProcessor
    email_backend: EmailBackend


@asynccontextmanager
async def open_resources(
    settings: Settings, db: Database | None = None
) -> AsyncIterator[Resources]:
    """Open everything; close on exit what was opened here (a `db` passed in stays open)."""
    database = db or Database.from_settings(settings)
    rate_limits = RateLimits(settings)
    try:
        yield Resources(
            settings=settings,
            db=database,
            access_tokens=AccessTokens(settings.signing_keys),
            rate_limits=rate_limits,
            processor=processor_from_settings(settings, database),
            email_backend=backend_from_settings(settings),
        )
    finally:
        await rate_limits.close()
        if db is None:
            await database.dispose()
