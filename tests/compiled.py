"""What the compiled read path sends to PostgreSQL, as a test observes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

SESSION_CHECK = "SELECT portal_sessions."


@contextmanager
def compiled_statements() -> Iterator[list[str]]:
    """The statements the compiled path sends (it reads with asyncpg's fetch, the ORM does
    not). The session check of a bearer token reads through asyncpg too, before any of
    them: it is not the read path's, and is left out."""
    sent: list[str] = []
    fetch = asyncpg.connection.Connection.fetch

    async def recording(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not query.startswith(SESSION_CHECK):
            sent.append(query)
        return await fetch(connection, query, *args, **kwargs)

    asyncpg.connection.Connection.fetch = recording  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        asyncpg.connection.Connection.fetch = fetch  # type: ignore[method-assign]
