"""What the compiled read path sends to PostgreSQL, as a test observes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg


@contextmanager
def compiled_statements() -> Iterator[list[str]]:
    """The statements the compiled path sends (it reads with asyncpg's fetch, the ORM does
    not)."""
    sent: list[str] = []
    fetch = asyncpg.connection.Connection.fetch

    async def recording(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return await fetch(connection, query, *args, **kwargs)

    asyncpg.connection.Connection.fetch = recording  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        asyncpg.connection.Connection.fetch = fetch  # type: ignore[method-assign]
