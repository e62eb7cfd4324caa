"""The Query root."""

from __future__ import annotations

import strawberry

from portal_gateway.resolvers import business as business_resolvers
from portal_gateway.resolvers import node as node_resolvers
from portal_gateway.resolvers import viewer as viewer_resolvers
from portal_gateway.schema.common import Info, Node
from portal_gateway.schema.types import Business, Customer, as_node


@strawberry.type
class Query:
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return as_node(await node_resolvers.node(info.context, id))

    @strawberry.field(description="At most 100 ids.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return [as_node(row) for row in await node_resolvers.nodes(info.context, list(ids))]

    @strawberry.field(description="The customer of this portal session; null without one.")
    async def viewer(self, info: Info) -> Customer | None:
        viewer = await viewer_resolvers.viewer(info.context)
        return Customer.of(viewer) if viewer else None

    @strawberry.field(description="The business whose API key signed this request; null otherwise.")
    async def current_business(self, info: Info) -> Business | None:
        row = await business_resolvers.current_business(info.context)
        return Business.of(row) if row else None
