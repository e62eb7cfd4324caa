"""The schema's context: the request's Context (resolvers/context.py) that every resolver
shares, and the `info` Strawberry hands them. The web wing builds the context through this
module, so that it reaches the resolvers only through the schema."""

from __future__ import annotations

from strawberry.types import Info as StrawberryInfo

from portal_gateway.resolvers.context import Context

Info = StrawberryInfo[Context, None]

__all__ = ["Context", "Info"]
