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
    subscriptions = sa.table("subscriptions", sa.column("id"), sa.column("status"))
    on_hold = sa.select(subscriptions.c.id).where(subscriptions.c.status == "ON_HOLD")
    invoices = sa.table("invoices", sa.column("status"), sa.column("subscription_id"))
    op.execute(
        invoices.update()
        .where(invoices.c.status == "OPEN", invoices.c.subscription_id.in_(on_hold))
        .values(status="VOID")
    )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("dues_lines")
    op.drop_table("renewal_claims")
