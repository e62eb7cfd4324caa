"""Engines and sessions: one engine for writes, reads in autocommit."""

from __future__ import annotations

import asyncio
import enum
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from asyncpg.exceptions import CannotConnectNowError, PostgresConnectionError
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
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

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        statement_cache_size: int = 100,
        plan_cache_mode: str | None = None,
    ) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self._pool_size = pool_size
        self._statement_cache_size = statement_cache_size
        self._server_settings = {"plan_cache_mode": plan_cache_mode} if plan_cache_mode else {}
        self._raw_pool: asyncpg.Pool | None = None
        self._raw_pool_lock = asyncio.Lock()
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            options: dict[str, Any] = {
                "connect_args": {
                    # 0 behind PgBouncer in transaction mode (DESIGN: Scaling out).
                    "prepared_statement_cache_size": statement_cache_size,
                    **({"server_settings": self._server_settings} if plan_cache_mode else {}),
                },
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
        return cls(
            settings.database_url,
            pool_size=settings.db_pool_size,
            statement_cache_size=settings.db_statement_cache_size,
            plan_cache_mode=settings.db_plan_cache_mode,
        )

    @asynccontextmanager
    async def raw_reads(self) -> AsyncIterator[asyncpg.Connection]:
        """An asyncpg connection for the compiled read path (PostgreSQL only): autocommit, no
        ORM, from a pool of its own made on first use."""
        pool = self._raw_pool or await self._open_raw_pool()
        async with pool.acquire() as connection:
            yield connection

    async def _open_raw_pool(self) -> asyncpg.Pool:
        async with self._raw_pool_lock:
            if self._raw_pool is None:
                dsn = make_url(self.url).set(drivername="postgresql")
                self._raw_pool = await asyncpg.create_pool(
                    dsn.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=self._pool_size,
                    statement_cache_size=self._statement_cache_size,
                    server_settings=self._server_settings or None,
                    reset=_reads_leave_nothing_to_reset,
                )
            return self._raw_pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any exception."""
        async with self.write_sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self.read_engine.dispose()
        if self._raw_pool is not None:
            await self._raw_pool.close()
            self._raw_pool = None


async def _reads_leave_nothing_to_reset(connection: asyncpg.Connection) -> None:
    """What a raw read connection goes back to its pool with: as it came. Its users only run
    SELECTs in autocommit (no SET, LISTEN, cursor or advisory lock), and asyncpg still rolls
    back a transaction left open before calling this; its default reset (advisory unlock,
    CLOSE ALL, UNLISTEN, RESET ALL) was one more round trip per checkout, two per request."""


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


_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]


def _constant(value: Any) -> Any:
    # Enums are stored by name (models.base.enum_column); nothing else a statement holds as a
    # constant needs converting for asyncpg.
    return value.name if isinstance(value, enum.Enum) else value


@dataclass(frozen=True)
class RawStatement:
    """A SQLAlchemy statement compiled once for asyncpg ($n placeholders), run on a raw
    connection with its named parameters filled per call: the reads that need neither ORM
    nor session (the compiled read path, the session check)."""

    sql: str
    names: tuple[str, ...]
    constants: Mapping[str, Any]

    @classmethod
    def of(cls, stmt: Any) -> RawStatement:
        compiled = stmt.compile(dialect=_ASYNCPG)
        names = tuple(compiled.positiontup or ())
        params = compiled.params
        constants = {name: _constant(params[name]) for name in names if params[name] is not None}
        return cls(compiled.string, names, constants)

    async def fetch(
        self, connection: asyncpg.Connection, values: Mapping[str, Any]
    ) -> Sequence[asyncpg.Record]:
        constants = self.constants
        args = [values[name] if name in values else constants.get(name) for name in self.names]
        return cast(Sequence[asyncpg.Record], await connection.fetch(self.sql, *args))
