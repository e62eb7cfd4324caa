"""Fixtures: each database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from PORTAL_TEST_DATABASE_URL (default: the local server).
Under CI=true it is mandatory and a missing server fails the run; elsewhere
its half of the suite is skipped when the server cannot be reached.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy.engine import make_url

from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.db import Database
from portal_gateway.migrations.runner import upgrade_async
from tests.api import Api, app_client
from tests.browser import chromium
from tests.factories import World
from tests.mail import Mailbox

PUBLIC_URL = "http://portal.test"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI", "").lower() == "true"

# One cache of the invoice fonts' fixed weights for every test and every run on this machine
# (the first run makes them: minutes for Chinese, Japanese and Korean).
os.environ.setdefault(
    "PORTAL_FONT_CACHE_DIR", str(Path(tempfile.gettempdir()) / "portal-gateway-test-fonts")
)


async def _create_pg_database(admin_url: str) -> str:
    url = make_url(admin_url)
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        database=url.database or "postgres", timeout=5,
    )  # fmt: skip
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(admin_url: str, test_url: str) -> None:
    url = make_url(admin_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        database=url.database or "postgres",
    )  # fmt: skip
    try:
        name = make_url(test_url).database
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _postgres_or_skip(admin_url: str) -> str:
    try:
        return await _create_pg_database(admin_url)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        if IN_CI:
            pytest.fail(f"CI=true needs PostgreSQL at {admin_url}: {error!r}", pytrace=False)
        pytest.skip(f"PostgreSQL not reachable ({error!r}); set PORTAL_TEST_DATABASE_URL")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A migrated database of each kind, shared by the session; tests make their own rows."""
    admin_url = os.environ.get("PORTAL_TEST_DATABASE_URL", DEFAULT_PG)
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "portal.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = await _postgres_or_skip(admin_url)
    await upgrade_async(url)
    database = Database(url, pool_size=5)
    yield database
    await database.dispose()
    if request.param == "postgresql":
        await _drop_pg_database(admin_url, url)


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(mode="test", database_url=db.url, public_url=PUBLIC_URL)


@pytest.fixture
def live_settings(db: Database, tmp_path: Path) -> Settings:
    return Settings(
        mode="live",
        database_url=db.url,
        public_url="https://portal.example",
        secret_key="s" * 40,
        jwt_keys='{"k1": "' + "k" * 40 + '"}',
        document_keys='{"d1": "' + "d" * 40 + '"}',
        email_backend="file",
        email_dir=str(tmp_path / "mail"),
        payment_processor="test",
    )


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, db) as http:
        yield http


@pytest.fixture
def world(db: Database) -> World:
    return World(db)


@pytest.fixture
def api(client: httpx.AsyncClient, settings: Settings, db: Database) -> Api:
    """On PostgreSQL, every query is answered by both read paths and compared."""
    return Api(client, None if db.is_sqlite else settings)


@pytest.fixture
def mailbox(db: Database, tmp_path: Path) -> Mailbox:
    return Mailbox(db, tmp_path / "mail", PUBLIC_URL)


@pytest.fixture
def redis_url() -> str:
    """Redis for the tests that need it: mandatory under CI=true, else skipped if absent."""
    url = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"CI=true needs Redis at {url}: {error!r}", pytrace=False)
        pytest.skip(f"Redis not reachable ({error!r}); set PORTAL_TEST_REDIS_URL")
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Debian Chromium for the session's browser tests (skipped without one, but under
    CI=true)."""
    async with chromium() as running:
        yield running


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long runs (the fuzz run); CI runs them")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests run under CI=true, or locally with PORTAL_TEST_SLOW=1; else they are
    skipped with the reason."""
    if IN_CI or os.environ.get("PORTAL_TEST_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: CI runs it; set PORTAL_TEST_SLOW=1 to run it here")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()
