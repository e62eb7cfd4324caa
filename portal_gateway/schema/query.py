"""The Query root."""

from __future__ import annotations

import strawberry

from portal_gateway.resolvers import businesses as business_resolvers
from portal_gateway.resolvers import node as node_resolvers
from portal_gateway.resolvers import viewer as viewer_resolvers
from portal_gateway.schema.accounts.types import Customer
from portal_gateway.schema.businesses.types import Business
from portal_gateway.schema.context import Info
from portal_gateway.schema.nodes import Node, wrap_optional


@strawberry.type
class Query:
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return wrap_optional(await node_resolvers.node(info.context, id))

    @strawberry.field(description="At most 100 ids.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return [wrap_optional(row) for row in await node_resolvers.nodes(info.context, list(ids))]

    @strawberry.field(description="The customer of this portal session; null without one.")
    async def viewer(self, info: Info) -> Customer | None:
        return wrap_optional(await viewer_resolvers.viewer(info.context))

    @strawberry.field(description="The business whose API key signed this request; null otherwise.")
    async def current_business(self, info: Info) -> Business | None:
        return wrap_optional(await business_resolvers.current_business(info.context))
