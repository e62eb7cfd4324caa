"""canonical email addresses: punycode domains, look-alikes no longer match

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 11:20:00

Every stored match key becomes the canonical form of core.emails. A local part that the
new rule refuses (a look-alike such as a Kelvin sign for K) is kept exactly as given, so
that it stops matching the address it imitates. Nothing is merged: where two accounts of
one business would share a key, a key some account already had stays with it, else the
oldest account takes it, and the others keep their old keys. Both kinds of row are
reported (by id, never by address); the migration never aborts on them.

Sessions and sign-in links were matched by the old keys, under which a look-alike matched
the real address: every unified session still open is revoked, and every unified link not
yet used expires, so that each is earned again under the new rule.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from portal_gateway.core.emails import canonical_email, match_key
from portal_gateway.models.base import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

accounts = sa.table(
    "customer_accounts",
    sa.column("id", sa.String),
    sa.column("business_id", sa.String),
    sa.column("email", sa.String),
    sa.column("email_normalized", sa.String),
    sa.column("created_at", sa.DateTime),
)


def upgrade() -> None:
    connection = op.get_bind()
    kept = _rekey(connection, match_key)
    refused = [
        row.id
        for row in connection.execute(sa.select(accounts.c.id, accounts.c.email)).all()
        if _canonical_or_none(row.email) is None
    ]
    now = datetime.now(UTC)
    sessions = sa.table("portal_sessions", sa.column("scope", sa.String),
                        sa.column("revoked_at", UTCDateTime()))  # fmt: skip
    revoked = connection.execute(
        sessions.update()
        .where(sessions.c.scope == "UNIFIED", sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    links = sa.table("link_tokens", sa.column("scope", sa.String),
                     sa.column("used_at", UTCDateTime()),
                     sa.column("expires_at", UTCDateTime()))  # fmt: skip
    expired = connection.execute(
        links.update()
        .where(links.c.scope == "UNIFIED", links.c.used_at.is_(None), links.c.expires_at > now)
        .values(expires_at=now)
    ).rowcount
    if refused:
        log.warning("accounts whose address imitates another, no longer matching it: %s", refused)
    if kept:
        log.warning("accounts left with their old match key (another account has it): %s", kept)
    log.warning("unified sessions revoked: %s; unified sign-in links expired: %s", revoked, expired)


def downgrade() -> None:
    # The old keys were strip().lower(), with the same rule for collisions.
    _rekey(op.get_bind(), lambda email: email.strip().lower())


def _rekey(connection: sa.Connection, key_of: Callable[[str], str]) -> list[str]:
    """Give each account the key `key_of` its address where that leaves keys unique within
    a business; the ids of the accounts that keep their old key."""
    rows = connection.execute(
        sa.select(accounts.c.id, accounts.c.business_id, accounts.c.email,
                  accounts.c.email_normalized).order_by(accounts.c.created_at, accounts.c.id)
    ).all()  # fmt: skip
    old = {row.id: (row.business_id, row.email_normalized) for row in rows}
    wanted = {row.id: (row.business_id, key_of(row.email)) for row in rows}
    final = dict(wanted)
    while True:  # each round sends at least one account back to its old key, for good
        holders: dict[tuple[str, str], list[str]] = {}
        for account, key in final.items():  # oldest first: the order of `rows`
            holders.setdefault(key, []).append(account)
        clashes = [accounts_ for accounts_ in holders.values() if len(accounts_) > 1]
        if not clashes:
            break
        for clashing in clashes:
            # An account whose key this was all along keeps it; else the oldest takes it.
            staying = next((a for a in clashing if final[a] == old[a]), clashing[0])
            for account in clashing:
                if account != staying:
                    final[account] = old[account]
    moving = [account for account in final if final[account] != old[account]]
    # Two steps, so that no statement ever sees two accounts with one key.
    for account in moving:
        connection.execute(
            accounts.update().where(accounts.c.id == account)
            .values(email_normalized=f"moving:{account}")
        )  # fmt: skip
    for account in moving:
        connection.execute(
            accounts.update().where(accounts.c.id == account)
            .values(email_normalized=final[account][1])
        )  # fmt: skip
    return [account for account in final if final[account] == old[account] != wanted[account]]


def _canonical_or_none(address: str) -> str | None:
    try:
        return canonical_email(address)
    except ValueError:
        return None
