"""The `info` every resolver gets: Strawberry's Info over the request's Context."""

from __future__ import annotations

from strawberry.types import Info as StrawberryInfo

from portal_gateway.resolvers.context import Context

Info = StrawberryInfo[Context, None]
