"""The request's read session, shared safely by concurrent resolvers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Executable, Row, Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")


class Reader:
    """One AsyncSession per request, used under a lock.

    Resolvers of one request run concurrently and an AsyncSession must not be
    used by two of them at once (it fails whenever the pool opens a connection).
    The lock serializes the statements, which cost the same either way, and a
    request holds one connection instead of one per resolver.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    def _current(self) -> AsyncSession:
        if self._session is None:
            self._session = self._sessions()
        return self._session

    async def scalars(self, stmt: Select[T]) -> Sequence[T]:
        async with self._lock:
            return (await self._current().scalars(stmt)).all()

    async def scalar(self, stmt: Select[T]) -> T | None:
        async with self._lock:
            result: T | None = await self._current().scalar(stmt)
            return result

    async def rows(self, stmt: Executable) -> Sequence[Row[*tuple[Any, ...]]]:
        async with self._lock:
            result: Sequence[Row[*tuple[Any, ...]]] = (await self._current().execute(stmt)).all()
            return result

    async def refresh(self) -> None:
        """Forget loaded rows (after a mutation committed) so reads see the new state."""
        async with self._lock:
            if self._session is not None:
                await self._session.close()
                self._session = None

    async def close(self) -> None:
        await self.refresh()
