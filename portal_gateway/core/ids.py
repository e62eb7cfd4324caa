"""Identifiers: random primary keys, opaque global ids and keyset cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime

from portal_gateway.core.clock import ensure_utc
from portal_gateway.core.errors import NotFoundError


def new_id() -> str:
    """A random 128-bit primary key as 32 hex characters: reveals no count or order."""
    return uuid.uuid4().hex


def seeded_id(*parts: str) -> str:
    """A stable id for seeded data, so a second seed finds the first one's rows."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "portal-gateway:" + ":".join(parts)).hex


def encode_global_id(type_name: str, local_id: str) -> str:
    return base64.b64encode(f"{type_name}:{local_id}".encode()).decode()


# What a global id that is malformed, or names another type, decodes to where an id of one
# type is expected. The flow that receives it refuses it first thing, inside its unit of
# work (`require_id`), so that the refusal is audited like any other.
NO_SUCH_ID = ""


def local_id(global_id: str, type_name: str) -> str:
    """The row id inside a global id of `type_name`, or NO_SUCH_ID."""
    decoded = decode_global_id(global_id)
    return decoded[1] if decoded is not None and decoded[0] == type_name else NO_SUCH_ID


def require_id(row_id: str, type_name: str) -> str:
    """`row_id`, or NotFoundError when a malformed global id decoded to NO_SUCH_ID: it names
    no `type_name`."""
    if row_id == NO_SUCH_ID:
        raise NotFoundError(f"No such {type_name}.")
    return row_id


def decode_global_id(global_id: str) -> tuple[str, str] | None:
    """(type, id) for a well-formed global id, None for anything else."""
    try:
        text = base64.b64decode(global_id.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, local_id = text.partition(":")
    if not sep or not type_name or not is_row_id(local_id):
        return None
    return type_name, local_id


def is_row_id(text: str) -> bool:
    """Whether `text` could be a row's id: at most 64 printable ASCII characters (ours are 32
    hex digits). Anything else names no row, and must not reach SQL: PostgreSQL refuses a
    NUL in a string, and audit_events.target_id holds 64."""
    return 0 < len(text) <= 64 and text.isascii() and text.isprintable()


def encode_cursor(created_at: datetime, row_id: str) -> str:
    # Rows come back in UTC already (a page encodes a hundred cursors): converted otherwise.
    stamp = (created_at if created_at.tzinfo is UTC else ensure_utc(created_at)).isoformat()
    return base64.urlsafe_b64encode(f"{stamp}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, sep, row_id = base64.urlsafe_b64decode(padded).decode().partition("|")
        if not sep or not is_row_id(row_id):
            return None
        return ensure_utc(datetime.fromisoformat(stamp)), row_id
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        return None


def customer_id(normalized_email: str, secret: bytes) -> str:
    """Opaque, stable id of a person: an HMAC of the canonical email (core.emails)."""
    return hmac.new(secret, normalized_email.encode(), hashlib.sha256).hexdigest()[:40]


def random_token(prefix: str = "") -> str:
    """At least 256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
