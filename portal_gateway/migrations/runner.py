"""Programmatic Alembic: the installed package migrates without an alembic.ini."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS = Path(__file__).parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (run outside an event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """The same from inside a running event loop (tests, start-up)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_upgrade_on, url, revision)
            await connection.commit()
    finally:
        await engine.dispose()


def _upgrade_on(sync_connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = sync_connection
    command.upgrade(config, revision)


async def is_at_head(url: str) -> bool:
    """Whether the database at `url` has every migration (serve refuses to start otherwise)."""
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()
    return current == heads


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(upgrade_async("sqlite+aiosqlite:///./portal.db"))
