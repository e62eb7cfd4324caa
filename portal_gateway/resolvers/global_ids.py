"""Global ids in arguments: parsed once, typed by what the field expects."""

from __future__ import annotations

from portal_gateway.core.errors import RequestInputError
from portal_gateway.core.ids import decode_global_id, local_id


def filter_id(global_id: str | None, type_name: str, argument: str) -> str | None:
    """A filter argument: a malformed id is the caller's mistake (BAD_USER_INPUT)."""
    if global_id is None:
        return None
    decoded = decode_global_id(global_id)
    if decoded is None or decoded[0] != type_name:
        raise RequestInputError(f"{argument} must be the id of a {type_name}.")
    return decoded[1]


def input_id(global_id: str, type_name: str) -> str:
    """A mutation's target: anything that is not an id of the right type names no row, so
    the service answers NotFoundError inside its unit of work, audited like any other."""
    return local_id(global_id, type_name)
