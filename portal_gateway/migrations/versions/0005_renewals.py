"""renewals: a claim per (subscription, period start); the lines of what is owed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:00:00

A declined renewal issues no invoice: the subscription goes ON_HOLD with the period's
amount as dues, and paying them issues the one invoice. Data written before this (the demo
seed's ON_HOLD subscriptions) carried an OPEN invoice for the same dues, which would make
them look owed twice once they are paid: such invoices are marked VOID, never deleted, so
that invoice numbers keep no gaps.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from portal_gateway.models.base import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "renewal_claims",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("business_id", sa.String(length=32), nullable=False),
        sa.Column("subscription_id", sa.String(length=32), nullable=False),
        sa.Column("period_start", UTCDateTime(), nullable=False),
        sa.Column("period_end", UTCDateTime(), nullable=False),
        sa.Column("status", sa.Enum("CLAIMED", "RENEWED", "DECLINED", name="renewalstatus",
                                    native_enum=False, length=32, create_constraint=False),
                  nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"],
                                name=op.f("fk_renewal_claims_business_id_businesses")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"],
                                name=op.f("fk_renewal_claims_payment_id_payments")),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"],
                                name=op.f("fk_renewal_claims_subscription_id_subscriptions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_claims")),
        sa.UniqueConstraint("subscription_id", "period_start",
                            name=op.f("uq_renewal_claims_subscription_id_period_start")),
    )  # fmt: skip
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dues_lines", sa.JSON(), nullable=True))
    subscriptions = sa.table(
        "subscriptions",
        sa.column("id"),
        sa.column("status"),
        sa.column("dues_minor"),
        sa.column("dues_lines", sa.JSON()),
    )
    on_hold = sa.select(subscriptions.c.id).where(subscriptions.c.status == "ON_HOLD")
    invoices = sa.table(
        "invoices",
        sa.column("id"),
        sa.column("status"),
        sa.column("subscription_id"),
        sa.column("total_minor"),
    )
    _keep_the_lines_owed(subscriptions, invoices, on_hold)
    op.execute(
        invoices.update()
        .where(invoices.c.status == "OPEN", invoices.c.subscription_id.in_(on_hold))
        .values(status="VOID")
    )


def _keep_the_lines_owed(
    subscriptions: sa.TableClause, invoices: sa.TableClause, on_hold: sa.Select[Any]
) -> None:
    """The lines of the OPEN invoice become the subscription's dues lines, so that the invoice
    issued when the dues are paid says what this one said (its tax included)."""
    lines = sa.table(
        "invoice_lines",
        sa.column("invoice_id"),
        sa.column("position"),
        sa.column("description"),
        sa.column("quantity"),
        sa.column("unit_amount_minor"),
        sa.column("amount_minor"),
        sa.column("tax_minor"),
        sa.column("proration"),
        sa.column("period_start", UTCDateTime()),
        sa.column("period_end", UTCDateTime()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(invoices.c.subscription_id, subscriptions.c.dues_minor, lines)
        .join(invoices, invoices.c.id == lines.c.invoice_id)
        .join(subscriptions, subscriptions.c.id == invoices.c.subscription_id)
        .where(invoices.c.status == "OPEN", invoices.c.subscription_id.in_(on_hold))
        .order_by(invoices.c.subscription_id, lines.c.invoice_id, lines.c.position)
    ).mappings()
    owed: dict[str, list[dict[str, Any]]] = {}
    dues: dict[str, int] = {}
    for row in rows:
        dues[row["subscription_id"]] = row["dues_minor"]
        owed.setdefault(row["subscription_id"], []).append(
            {
                "description": row["description"],
                "quantity": row["quantity"],
                "unit_amount_minor": row["unit_amount_minor"],
                "amount_minor": row["amount_minor"],
                "tax_minor": row["tax_minor"],
                "proration": bool(row["proration"]),
                "period_start": _iso(row["period_start"]),
                "period_end": _iso(row["period_end"]),
            }
        )
    for subscription_id, drafts in owed.items():
        if sum(d["amount_minor"] + d["tax_minor"] for d in drafts) != dues[subscription_id]:
            continue  # not what is owed: paying the dues invoices them as one line instead
        connection.execute(
            subscriptions.update()
            .where(subscriptions.c.id == subscription_id)
            .values(dues_lines=drafts)
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("dues_lines")
    op.drop_table("renewal_claims")
