"""What a process opens once and shares: settings, database, token keys, rate limits, the
payment processor and the email backend. One typed object, opened by the app's lifespan
(and by CLI commands), handed to pages, the GraphQL context and background jobs alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from portal_gateway.auth.access_tokens import AccessTokens
from portal_gateway.auth.document_links import DocumentLinks
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.notifications.backends import EmailBackend, backend_from_settings
from portal_gateway.payments import processor_from_settings
from portal_gateway.payments.processor import PaymentProcessor
from portal_gateway.services.logos import LogoFetcher


@dataclass(frozen=True)
class Resources:
    settings: Settings
    db: Database
    access_tokens: AccessTokens
    rate_limits: RateLimits
    processor: PaymentProcessor
    email_backend: EmailBackend
    document_links: DocumentLinks
    # Fetches a business's logo once when it is set (tests give one that stays on loopback).
    logos: LogoFetcher


@asynccontextmanager
async def open_resources(
    settings: Settings, db: Database | None = None, *, logos: LogoFetcher | None = None
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
            document_links=DocumentLinks(
                settings.document_signing_keys, settings.document_link_ttl_seconds
            ),
            logos=logos or LogoFetcher(),
        )
    finally:
        await rate_limits.close()
        if db is None:
            await database.dispose()
