"""The rules PostgreSQL applies when it writes edges as JSON (compiled.sql_json) give what
their Python originals give, value for value: global ids, cursors, amounts, datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import BigInteger, DateTime, String, bindparam, select

from portal_gateway.compiled import fields as spec
from portal_gateway.compiled.sql_json import amount_sql, cursor_sql, global_id_sql, iso_sql
from portal_gateway.core.ids import encode_cursor, encode_global_id, new_id
from portal_gateway.core.money import CURRENCY_EXPONENTS, Money
from portal_gateway.db import Database, RawStatement

IDS = [
    new_id(),
    "x",
    "0" * 32,
    "a-much-longer-id-than-any-this-service-makes-0123456789",
    "é" * 32,  # 64 bytes: PostgreSQL's base64 would break the line
]
STAMPS = [
    datetime(2026, 11, 28, 17, 15, 15, tzinfo=UTC),
    datetime(2026, 11, 28, 17, 15, 15, 1, tzinfo=UTC),
    datetime(2026, 11, 28, 17, 15, 15, 120000, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC) + timedelta(microseconds=500),
]
MINORS = [0, 1, -1, 5, 99, 100, 1234, -5050, 10**15 + 7, -(2**62)]


async def _one(db: Database, expr: Any, **values: Any) -> Any:
    statement = RawStatement.of(select(expr))
    async with db.raw_reads() as connection:
        rows = await statement.fetch(connection, values)
    return rows[0][0]


@pytest.fixture
def postgres(db: Database) -> Database:
    if db.is_sqlite:
        pytest.skip("PostgreSQL writes the JSON; SQLite reads through Strawberry only")
    return db


async def test_global_ids_are_core_ids(postgres: Database) -> None:
    row_id = bindparam("row_id", type_=String())
    for type_name in spec.ENTITIES:
        for value in IDS:
            written = await _one(postgres, global_id_sql(type_name, row_id), row_id=value)
            assert written == encode_global_id(type_name, value), (type_name, value)


async def test_datetimes_and_cursors_are_pythons(postgres: Database) -> None:
    stamp = bindparam("stamp", type_=DateTime(timezone=True))
    row_id = bindparam("row_id", type_=String())
    for value in STAMPS:
        assert await _one(postgres, iso_sql(stamp), stamp=value) == value.isoformat()
        for identifier in IDS:
            cursor = await _one(postgres, cursor_sql(stamp, row_id), stamp=value, row_id=identifier)
            assert cursor == encode_cursor(value, identifier), (value, identifier)
    assert await _one(postgres, iso_sql(stamp), stamp=None) is None


async def test_amounts_have_exactly_the_currencys_decimals(postgres: Database) -> None:
    minor = bindparam("minor", type_=BigInteger())
    currency = bindparam("currency", type_=String())
    for code in CURRENCY_EXPONENTS:
        for value in MINORS:
            written = await _one(postgres, amount_sql(minor, currency), minor=value, currency=code)
            assert written == str(Money(value, code).to_decimal()), (code, value)
    unknown = await _one(postgres, amount_sql(minor, currency), minor=100, currency="XXX")
    assert unknown is None  # the page then goes to Strawberry, which refuses it
