"""Keyset pagination on (created_at, id), newest first, with opaque cursors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from portal_gateway.core.errors import RequestInputError
from portal_gateway.core.ids import decode_cursor, encode_cursor
from portal_gateway.loaders.reader import Reader

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


M = TypeVar("M")


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: tuple[datetime, str] | None

    @classmethod
    def parse(cls, first: int | None, after: str | None) -> PageRequest:
        """Checks what Strawberry checks only for its own ListConnection."""
        size = DEFAULT_PAGE_SIZE if first is None else first
        if not 0 <= size <= MAX_PAGE_SIZE:
            raise RequestInputError(f"first must be between 0 and {MAX_PAGE_SIZE}.")
        position = None
        if after is not None:
            position = decode_cursor(after)
            if position is None:
                raise RequestInputError("after is not a cursor of this connection.")
        return cls(size, position)


@dataclass
class Page(Generic[M]):
    rows: Sequence[M]
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]

    @staticmethod
    def cursor(row: Any) -> str:
        return encode_cursor(row.created_at, row.id)


def newest_first(model: Any) -> tuple[Any, Any]:
    return model.created_at.desc(), model.id.desc()


def older_than(model: Any, position: tuple[datetime, str]) -> ColumnElement[bool]:
    created_at, row_id = position
    return or_(
        model.created_at < created_at,
        and_(model.created_at == created_at, model.id < row_id),
    )


async def paginate(reader: Reader, stmt: Select[M], model: Any, page: PageRequest) -> Page[M]:
    """One page of `stmt` (already scoped and filtered); totalCount is counted only if asked."""
    rows_stmt = stmt
    if page.after is not None:
        rows_stmt = rows_stmt.where(older_than(model, page.after))
    rows = await reader.scalars(rows_stmt.order_by(*newest_first(model)).limit(page.first + 1))

    async def count() -> int:
        total = await reader.scalar(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        )
        return int(total or 0)

    return Page(
        rows=rows[: page.first],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
        count=count,
    )
