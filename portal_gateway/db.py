"""Engines and sessions: one engine for writes, reads in autocommit."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asyncpg.exceptions import CannotConnectNowError, PostgresConnectionError
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from portal_gateway.config import Settings


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that BEGIN IMMEDIATE below
        # serializes writers up front instead of failing on lock upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    if immediate:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """The process's engines. Owned by the app's lifespan or a CLI command."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            options: dict[str, Any] = {
                "pool_size": pool_size,
                "max_overflow": pool_size,
                "pool_pre_ping": True,
                # Parameters hold emails, names and tokens: never in a log or an error.
                "hide_parameters": True,
            }
            self.engine = create_async_engine(url, **options)
            # Reads have a pool of their own whose connections are in autocommit from the
            # start: set per checkout on a shared pool, the pool's liveness check ran before
            # it, as BEGIN, ping, ROLLBACK: three round trips a checkout instead of one.
            self.read_engine = create_async_engine(url, isolation_level="AUTOCOMMIT", **options)
        self.write_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any exception."""
        async with self.write_sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self.read_engine.dispose()


def database_unavailable(error: BaseException) -> bool:
    """Whether `error`, or what caused it, says the database cannot be reached now: a refused,
    reset or dropped connection, a server not accepting connections yet, a pool that timed
    out. Such a request is answered 503, to retry; its transaction rolled back with the
    connection. Anything else (a missing table, a session used twice) is a bug, not this."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, PoolTimeout | ConnectionError | socket.gaierror):
            return True
        if isinstance(seen, PostgresConnectionError | CannotConnectNowError):
            return True
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return False
