"""canonical email addresses: punycode domains, look-alikes no longer match

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 11:20:00

Every stored match key becomes the canonical form of core.emails. A local part that the
new rule refuses (a look-alike such as a Kelvin sign for K) is kept exactly as given, so
that it stops matching the address it imitates. Nothing is merged: where two accounts of
one business would now share a key, the later one keeps its old key. Both kinds of row are
reported (by id, never by address), and the migration never aborts on them.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal_gateway.core.emails import canonical_email, match_key

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    connection = op.get_bind()
    accounts = sa.table(
        "customer_accounts",
        sa.column("id", sa.String),
        sa.column("business_id", sa.String),
        sa.column("email", sa.String),
        sa.column("email_normalized", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    rows = connection.execute(
        sa.select(accounts.c.id, accounts.c.business_id, accounts.c.email,
                  accounts.c.email_normalized).order_by(accounts.c.created_at, accounts.c.id)
    ).all()  # fmt: skip
    taken = {(row.business_id, row.email_normalized) for row in rows}
    refused, kept = [], []
    for row in rows:
        key = match_key(row.email)
        if key != _canonical_or_none(row.email):
            refused.append(row.id)
        if key == row.email_normalized:
            continue
        if (row.business_id, key) in taken:
            kept.append(row.id)  # another account of this business has that key: no merge
            continue
        taken.discard((row.business_id, row.email_normalized))
        taken.add((row.business_id, key))
        connection.execute(
            accounts.update().where(accounts.c.id == row.id).values(email_normalized=key)
        )
    for table in ("link_tokens", "portal_sessions"):
        stored = sa.table(
            table, sa.column("id", sa.String), sa.column("email_normalized", sa.String)
        )
        for token_id, old in connection.execute(
            sa.select(stored.c.id, stored.c.email_normalized)
        ).all():
            key = match_key(old)
            if key != old:
                connection.execute(
                    stored.update().where(stored.c.id == token_id).values(email_normalized=key)
                )
    if refused:
        log.warning("accounts whose address imitates another, no longer matching it: %s", refused)
    if kept:
        log.warning("accounts left with their old match key (another has the new one): %s", kept)


def _canonical_or_none(address: str) -> str | None:
    try:
        return canonical_email(address)
    except ValueError:
        return None


def downgrade() -> None:
    # The old keys were strip().lower(); a downgrade puts them back as they were computed.
    connection = op.get_bind()
    for table, column in (("customer_accounts", "email"), ("link_tokens", "email_normalized"),
                          ("portal_sessions", "email_normalized")):  # fmt: skip
        stored = sa.table(table, sa.column("id", sa.String), sa.column(column, sa.String),
                          sa.column("email_normalized", sa.String))  # fmt: skip
        for row in connection.execute(sa.select(stored.c.id, stored.c[column])).all():
            connection.execute(
                stored.update().where(stored.c.id == row.id)
                .values(email_normalized=str(row[1]).strip().lower())
            )  # fmt: skip
