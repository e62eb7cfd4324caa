"""The one source of "now": timezone-aware UTC, movable by tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def _real_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _real_now
_offset = timedelta(0)


def now() -> datetime:
    """The current time in UTC (plus whatever a test moved it by)."""
    return _now() + _offset


def advance(delta: timedelta) -> None:
    """Move the clock forward for everything that asks `now()` (tests only)."""
    global _offset
    _offset += delta


def freeze(at: datetime) -> None:
    """Stop the clock at `at` (tests only): amounts that depend on time become exact."""
    global _now, _offset
    moment = ensure_utc(at)
    _now, _offset = (lambda: moment), timedelta(0)


def reset() -> None:
    global _now, _offset
    _now, _offset = _real_now, timedelta(0)


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes; convert aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: every datetime here is timezone-aware")
    return value.astimezone(UTC)
