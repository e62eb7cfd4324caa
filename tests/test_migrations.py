"""The migration builds exactly the tables the models describe, on both engines."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal_gateway.db import Database
from portal_gateway.migrations.tables import metadata


async def test_models_and_migration_agree(db: Database) -> None:
    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(compare)
    assert differences == []
