"""Product and ProductCollection."""

from __future__ import annotations

import strawberry

from portal_gateway import models
from portal_gateway.models.enums import BillingInterval, ProductType
from portal_gateway.schema.context import Info
from portal_gateway.schema.nodes import Node, column, money, node_type, relation
from portal_gateway.schema.refs import BusinessRef
from portal_gateway.schema.values import Money


@node_type
@strawberry.type
class Product(Node):
    row: strawberry.Private[models.Product]

    business: BusinessRef = relation("Business", "business_id", required=True)
    name: str = column("name")
    description: str | None = column("description")
    type: ProductType = column("type")
    price: Money = money("price_minor")
    billing_interval: BillingInterval | None = column("billing_interval")
    collection: ProductCollection | None = relation("ProductCollection", "collection_id")


@node_type
@strawberry.type(
    description="Products among which a subscription may move: "
    "upgrade to a higher price, downgrade to a lower one."
)
class ProductCollection(Node):
    row: strawberry.Private[models.ProductCollection]

    name: str = column("name")

    @strawberry.field
    async def products(self, info: Info) -> list[Product]:
        rows = await info.context.loaders.products_by_collection.load(self.row.id)
        return [Product(row=row) for row in rows]
