"""The Business type."""

from __future__ import annotations

import strawberry

from portal_gateway import models
from portal_gateway.resolvers import businesses as business_resolvers
from portal_gateway.schema.connections import Connection
from portal_gateway.schema.context import Info
from portal_gateway.schema.nodes import Node, column, node_type
from portal_gateway.schema.refs import CustomerAccountRef
from portal_gateway.schema.values import Address
from portal_gateway.services.links import static_portal_url


@node_type
@strawberry.type
class Business(Node):
    row: strawberry.Private[models.Business]

    name: str = column("name")
    logo_url: str | None = column("logo_url")
    support_email: str | None = column("support_email")
    website_url: str | None = column("website_url")
    allow_subscription_updates: bool = column(
        "allow_subscription_updates",
        description="Whether customers may upgrade or downgrade their plans in the portal.",
    )

    tax_id: str | None = column(
        "tax_id",
        description="The business's tax registration (e.g. a VAT id), as printed on its invoices.",
    )

    @strawberry.field(description="The business's address, as printed on its invoices.")
    def address(self) -> Address | None:
        return Address.of(self.row, "address_")

    @strawberry.field(
        description="The never-expiring link where a customer enters an email to get a "
        "sign-in link for this business's portal."
    )
    def static_portal_url(self, info: Info) -> str:
        settings = info.context.settings
        return static_portal_url(settings.link_base_url, self.row.id, live=settings.is_live)

    @strawberry.field(
        description="This business's customers: null for anyone but this business's API key."
    )
    async def customers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        email: str | None = None,
    ) -> Connection[CustomerAccountRef] | None:
        page = await business_resolvers.customers(info.context, self.row, first, after, email)
        return Connection.of(page) if page is not None else None
