"""Global ids and cursors are opaque and survive a round trip; junk decodes to nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from portal_gateway.core.ids import (
    customer_id,
    decode_cursor,
    decode_global_id,
    encode_cursor,
    encode_global_id,
)


def test_global_id_round_trip() -> None:
    assert decode_global_id(encode_global_id("Invoice", "abc123")) == ("Invoice", "abc123")


@pytest.mark.parametrize("junk", ["", "!!", "Tm9wZQ==", "OmFiYw==", "bm9jb2xvbg=="])
def test_junk_global_ids_decode_to_nothing(junk: str) -> None:
    assert decode_global_id(junk) is None


def test_cursor_round_trip_in_utc() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert decode_cursor(encode_cursor(moment, "id1")) == (moment.astimezone(UTC), "id1")
    assert decode_cursor("not a cursor") is None


def test_customer_id_depends_on_the_secret() -> None:
    assert customer_id("a@example.com", b"one") == customer_id("a@example.com", b"one")
    assert customer_id("a@example.com", b"one") != customer_id("a@example.com", b"two")
