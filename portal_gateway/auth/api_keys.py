"""Merchant API keys: `sk_test_…` / `sk_live_…`, shown once, stored as SHA-256."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import MerchantPrincipal
from portal_gateway.core.errors import AccessError
from portal_gateway.core.ids import random_token, token_hash
from portal_gateway.models import ApiKey
from portal_gateway.models.enums import ApiKeyMode

API_KEY_PREFIXES = ("sk_test_", "sk_live_")


def is_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_PREFIXES)


def new_api_key(business_id: str, mode: ApiKeyMode) -> tuple[str, ApiKey]:
    """A new key (the plaintext, to show once) and its row (hash only)."""
    plaintext = random_token(f"sk_{mode.value}_")
    row = ApiKey(
        business_id=business_id,
        mode=mode,
        key_hash=token_hash(plaintext),
        display_prefix=plaintext[:12],
    )
    return plaintext, row


async def authenticate_api_key(
    session: AsyncSession, credential: str, mode: ApiKeyMode
) -> MerchantPrincipal:
    """The business behind a key, or UNAUTHENTICATED (unknown, revoked, other mode)."""
    if not credential.startswith(f"sk_{mode.value}_"):
        raise AccessError(
            "UNAUTHENTICATED",
            f"This server accepts only sk_{mode.value}_ keys in {mode.value} mode.",
        )
    row = (
        await session.execute(
            select(ApiKey.id, ApiKey.business_id).where(
                ApiKey.key_hash == token_hash(credential),
                ApiKey.mode == mode,
                ApiKey.revoked_at.is_(None),
            )
        )
    ).first()
    if row is None:
        raise AccessError("UNAUTHENTICATED", "Invalid API key.")
    return MerchantPrincipal(business_id=row.business_id, api_key_id=row.id)
