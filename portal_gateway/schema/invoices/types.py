"""Invoice and its lines."""

from __future__ import annotations

from datetime import datetime

import strawberry

from portal_gateway import models
from portal_gateway.core import clock
from portal_gateway.models.enums import InvoiceStatus
from portal_gateway.schema.context import Info
from portal_gateway.schema.nodes import (
    Node,
    column,
    global_id,
    money,
    node_type,
    relation,
    wrap_optional,
)
from portal_gateway.schema.refs import BusinessRef, PaymentRef, SubscriptionRef
from portal_gateway.schema.values import Money


@strawberry.type
class InvoiceLine:
    row: strawberry.Private[models.InvoiceLine]
    currency: strawberry.Private[str]

    description: str = column("description")
    quantity: int = column("quantity")
    proration: bool = column("proration")
    period_start: datetime | None = column("period_start")
    period_end: datetime | None = column("period_end")

    @strawberry.field
    def unit_amount(self) -> Money:
        return Money.of(self.row.unit_amount_minor, self.currency)

    @strawberry.field
    def amount(self) -> Money:
        return Money.of(self.row.amount_minor, self.currency)


@node_type
@strawberry.type
class Invoice(Node):
    row: strawberry.Private[models.Invoice]

    number: str = column(
        "number",
        description="Per business: prefix, year of issue, and a running sequence that never "
        "resets or skips, e.g. ACME-2026-000042.",
    )
    business: BusinessRef = relation("Business", "business_id", required=True)
    status: InvoiceStatus = column("status")
    issued_at: datetime = column("issued_at")
    subtotal: Money = money("subtotal_minor")
    tax: Money = money("tax_minor")
    total: Money = money("total_minor")
    subscription: SubscriptionRef | None = relation("Subscription", "subscription_id")

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await info.context.loaders.lines_by_invoice.load(self.row.id)
        return [InvoiceLine(row=line, currency=self.row.currency) for line in rows]

    @strawberry.field(description="A short-lived signed link to this invoice as a PDF.")
    def pdf_url(self, info: Info) -> str:
        resources = info.context.resources
        return resources.document_links.invoice_pdf_url(
            resources.settings.public_url, global_id(self), clock.now()
        )

    @strawberry.field
    async def payment(self, info: Info) -> PaymentRef | None:
        row = await info.context.loaders.payment_by_invoice.load(self.row.id)
        return wrap_optional(row)
