"""Idempotency keys of mutations that charge.

A key is unique per customer account and mutation. The first call records the
key with a hash of its input before it charges; a retry with the same key and
input gets the first call's result (its ids, re-read under the caller's scope);
the same key with other input, or while the first call is still running, is a
ConflictError. Keys are kept at least 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.core import clock
from portal_gateway.core.errors import ConflictError
from portal_gateway.models import IdempotencyKey

KEEP_FOR = timedelta(hours=24)


def request_hash(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


async def begin(
    session: AsyncSession, account_id: str, mutation: str, key: str, request: dict[str, Any]
) -> dict[str, Any] | None:
    """The stored result of an earlier call with this key, or None after recording this one."""
    _check(key)
    hashed = request_hash(request)
    now = clock.now()
    where = (
        IdempotencyKey.account_id == account_id,
        IdempotencyKey.mutation == mutation,
        IdempotencyKey.key == key,
    )
    row = await session.scalar(select(IdempotencyKey).where(*where))
    if row is not None and row.expires_at <= now:
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        row = None
    if row is not None:
        return _stored(row, hashed)
    try:
        async with session.begin_nested():
            session.add(
                IdempotencyKey(
                    account_id=account_id,
                    mutation=mutation,
                    key=key,
                    request_hash=hashed,
                    expires_at=now + KEEP_FOR,
                )
            )
    except IntegrityError:
        raise ConflictError("A request with this idempotency key is still in progress.") from None
    return None


async def peek(
    session: AsyncSession, account_id: str, mutation: str, key: str, request: dict[str, Any]
) -> dict[str, Any] | None:
    """What `begin` would answer for a key already used, recording nothing: the stored
    result, or ConflictError; None for a key not (or no longer) in use."""
    _check(key)
    row = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.account_id == account_id,
            IdempotencyKey.mutation == mutation,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at > clock.now(),
        )
    )
    return _stored(row, request_hash(request)) if row is not None else None


def _check(key: str) -> None:
    if not 1 <= len(key) <= 255:
        raise ConflictError("An idempotency key must be 1 to 255 characters.")


def _stored(row: IdempotencyKey, hashed: str) -> dict[str, Any]:
    if row.request_hash != hashed:
        raise ConflictError("This idempotency key was already used with other input.")
    if row.result is None:
        raise ConflictError("A request with this idempotency key is still in progress.")
    return dict(row.result)


async def finish(
    session: AsyncSession, account_id: str, mutation: str, key: str, result: dict[str, Any]
) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.account_id == account_id,
            IdempotencyKey.mutation == mutation,
            IdempotencyKey.key == key,
        )
        .values(result=result)
    )
