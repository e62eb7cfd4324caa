"""Purchase and LicenseKey."""

from __future__ import annotations

from datetime import datetime

import strawberry

from portal_gateway import models
from portal_gateway.models.enums import LicenseKeyStatus, PurchaseStatus
from portal_gateway.schema.context import Info
from portal_gateway.schema.nodes import Node, column, money, node_type, relation
from portal_gateway.schema.refs import BusinessRef, InvoiceRef, ProductRef, SubscriptionRef
from portal_gateway.schema.values import Money


@node_type
@strawberry.type(
    description="Something the customer bought: a one-time product, "
    "or the first payment of a subscription."
)
class Purchase(Node):
    row: strawberry.Private[models.Purchase]

    business: BusinessRef = relation("Business", "business_id", required=True)
    product: ProductRef = relation("Product", "product_id", required=True)
    quantity: int = column("quantity")
    total: Money = money("total_minor")
    status: PurchaseStatus = column("status")
    purchased_at: datetime = column("purchased_at")
    invoice: InvoiceRef | None = relation("Invoice", "invoice_id")
    subscription: SubscriptionRef | None = relation("Subscription", "subscription_id")

    @strawberry.field
    async def license_keys(self, info: Info) -> list[LicenseKey]:
        rows = await info.context.loaders.license_keys_by_purchase.load(self.row.id)
        return [LicenseKey(row=row) for row in rows]


@node_type
@strawberry.type
class LicenseKey(Node):
    row: strawberry.Private[models.LicenseKey]

    key: str = column("key")
    status: LicenseKeyStatus = column("status")
    business: BusinessRef = relation("Business", "business_id", required=True)
    product: ProductRef = relation("Product", "product_id", required=True)
    purchase: Purchase | None = relation("Purchase", "purchase_id")
    activations_limit: int | None = column("activations_limit")
    activations_used: int = column("activations_used")
    expires_at: datetime | None = column("expires_at")
    created_at: datetime = column("created_at")
