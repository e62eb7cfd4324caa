"""The one source of "now": timezone-aware UTC, movable by tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
_offset = timedelta(0)


def now() -> datetime:
    """The current time in UTC (plus whatever a test moved it by)."""
    return _now() + _offset


def advance(delta: timedelta) -> None:
    """Move the clock forward for everything that asks `now()` (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes; convert aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: every datetime here is timezone-aware")
    return value.astimezone(UTC)
