"""invoice documents: addresses and tax ids, logos, and what an invoice was issued with

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 13:00:00

An invoice prints what was true when it was issued. Invoices issued before this revision
take the seller's name and contacts and the buyer's language as they are now (nothing
older was kept), no address or tax id (neither existed), and each line the business's
current rate where it was taxed (the only rate a business has had).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal_gateway.models.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ADDRESS = [
    ("line1", 200),
    ("line2", 200),
    ("city", 100),
    ("state", 100),
    ("postal_code", 20),
    ("country", 2),
]


def upgrade() -> None:
    op.create_table(
        "business_logos",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("business_id", sa.String(length=32), nullable=False),
        sa.Column("source_url", sa.String(length=2000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"],
                                name=op.f("fk_business_logos_business_id_businesses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_logos")),
    )  # fmt: skip
    with op.batch_alter_table("businesses", schema=None) as batch_op:
        for part, length in _ADDRESS:
            batch_op.add_column(
                sa.Column(f"address_{part}", sa.String(length=length), nullable=True)
            )
        batch_op.add_column(sa.Column("tax_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("logo_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("customer_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_id", sa.String(length=40), nullable=True))
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tax_rate_bps", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("billing_tax_id", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("locale", sa.String(length=16), nullable=False, server_default="en")
        )
        batch_op.add_column(sa.Column("seller_name", sa.String(length=200), nullable=True))
        for part, length in _ADDRESS:
            batch_op.add_column(
                sa.Column(f"seller_address_{part}", sa.String(length=length), nullable=True)
            )
        batch_op.add_column(sa.Column("seller_tax_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("seller_support_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("seller_website_url", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("seller_logo_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_invoices_seller_logo_id_business_logos"),
            "business_logos",
            ["seller_logo_id"],
            ["id"],
        )
    _snapshot_the_invoices_issued_so_far()
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.alter_column("seller_name", existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column("locale", existing_type=sa.String(length=16), server_default=None)
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.alter_column("tax_rate_bps", existing_type=sa.Integer(), server_default=None)


def _snapshot_the_invoices_issued_so_far() -> None:
    businesses = sa.table(
        "businesses",
        sa.column("id"),
        sa.column("name"),
        sa.column("support_email"),
        sa.column("website_url"),
        sa.column("tax_rate_bps"),
    )
    accounts = sa.table("customer_accounts", sa.column("id"), sa.column("locale"))
    invoices = sa.table(
        "invoices",
        sa.column("business_id"),
        sa.column("account_id"),
        sa.column("locale"),
        sa.column("seller_name"),
        sa.column("seller_support_email"),
        sa.column("seller_website_url"),
    )
    lines = sa.table(
        "invoice_lines", sa.column("business_id"), sa.column("tax_minor"), sa.column("tax_rate_bps")
    )

    def of_business(
        column: sa.ColumnClause[object], table: sa.TableClause
    ) -> sa.ScalarSelect[object]:
        return sa.select(column).where(businesses.c.id == table.c.business_id).scalar_subquery()

    op.execute(
        invoices.update().values(
            seller_name=of_business(businesses.c.name, invoices),
            seller_support_email=of_business(businesses.c.support_email, invoices),
            seller_website_url=of_business(businesses.c.website_url, invoices),
            locale=sa.select(accounts.c.locale)
            .where(accounts.c.id == invoices.c.account_id)
            .scalar_subquery(),
        )
    )
    op.execute(
        lines.update()
        .where(lines.c.tax_minor != 0)
        .values(tax_rate_bps=of_business(businesses.c.tax_rate_bps, lines))
    )
    # The dues of ON_HOLD subscriptions, invoiced when paid, carry their rate the same way.
    subscriptions = sa.table(
        "subscriptions",
        sa.column("id"),
        sa.column("business_id"),
        sa.column("dues_lines", sa.JSON()),
    )
    connection = op.get_bind()
    owed = connection.execute(
        sa.select(subscriptions.c.id, subscriptions.c.dues_lines, businesses.c.tax_rate_bps)
        .join(businesses, businesses.c.id == subscriptions.c.business_id)
        .where(subscriptions.c.dues_lines.is_not(None))
    ).all()
    for subscription_id, drafts, rate in owed:
        if not drafts:
            continue
        rated = [
            {**draft, "tax_rate_bps": draft.get("tax_rate_bps", rate if draft["tax_minor"] else 0)}
            for draft in drafts
        ]
        connection.execute(
            subscriptions.update()
            .where(subscriptions.c.id == subscription_id)
            .values(dues_lines=rated)
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_invoices_seller_logo_id_business_logos"), type_="foreignkey"
        )
        for column in (
            "billing_tax_id",
            "locale",
            "seller_name",
            "seller_tax_id",
            "seller_support_email",
            "seller_website_url",
            "seller_logo_id",
        ):
            batch_op.drop_column(column)
        for part, _ in _ADDRESS:
            batch_op.drop_column(f"seller_address_{part}")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_column("tax_rate_bps")
    with op.batch_alter_table("customer_accounts", schema=None) as batch_op:
        batch_op.drop_column("tax_id")
    with op.batch_alter_table("businesses", schema=None) as batch_op:
        for column in ("tax_id", "logo_id"):
            batch_op.drop_column(column)
        for part, _ in _ADDRESS:
            batch_op.drop_column(f"address_{part}")
    op.drop_table("business_logos")
