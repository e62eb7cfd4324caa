"""A postal address kept in a row's `<prefix>line1`, ... columns."""

from __future__ import annotations

ADDRESS_PARTS = ("line1", "line2", "city", "state", "postal_code", "country")


def address_of(row: object, prefix: str) -> dict[str, str | None] | None:
    """The parts of the address a row keeps, or None when it has none: line 1, city and
    country are what make one."""
    parts: dict[str, str | None] = {part: getattr(row, prefix + part) for part in ADDRESS_PARTS}
    if not (parts["line1"] and parts["city"] and parts["country"]):
        return None
    return parts
