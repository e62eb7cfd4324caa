"""Payment (one charge of a card) and PaymentMethod (a saved card)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from portal_gateway import models
from portal_gateway.core.cards import CardBrand
from portal_gateway.models.enums import PaymentStatus
from portal_gateway.schema.nodes import Node, column, money, node_type, relation
from portal_gateway.schema.refs import BusinessRef, InvoiceRef
from portal_gateway.schema.values import Money


@node_type
@strawberry.type(description="A transaction: one charge of a payment method.")
class Payment(Node):
    row: strawberry.Private[models.Payment]

    business: BusinessRef = relation("Business", "business_id", required=True)
    amount: Money = money("amount_minor")
    status: PaymentStatus = column("status")
    created_at: datetime = column("created_at")
    payment_method: PaymentMethod | None = relation("PaymentMethod", "payment_method_id")
    invoice: InvoiceRef | None = relation("Invoice", "invoice_id")
    failure_code: str | None = column("failure_code")
    failure_message: str | None = column("failure_message")


@node_type
@strawberry.type(description="A saved card, as the customer may see it: never the number.")
class PaymentMethod(Node):
    row: strawberry.Private[models.PaymentMethod]

    business: BusinessRef = relation("Business", "business_id", required=True)
    brand: CardBrand = column("brand")
    last4: str = column("last4")
    exp_month: int = column("exp_month")
    exp_year: int = column("exp_year")
    created_at: datetime = column("created_at")
