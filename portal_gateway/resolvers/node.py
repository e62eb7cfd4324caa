"""`node` and `nodes`: any object by global id, null when absent or out of scope."""

from __future__ import annotations

import asyncio
from typing import Any

from portal_gateway.core.errors import RequestInputError
from portal_gateway.core.ids import decode_global_id
from portal_gateway.resolvers import viewer as viewer_resolvers
from portal_gateway.resolvers.context import Context

MAX_NODES = 100


async def node(ctx: Context, global_id: str) -> Any | None:
    """The row (or Viewer) behind a global id, or None."""
    decoded = decode_global_id(global_id)
    if decoded is None:
        return None
    type_name, local_id = decoded
    if type_name == "Customer":
        current = await viewer_resolvers.viewer(ctx)
        return current if current is not None and current.id == local_id else None
    loader = ctx.loaders.by_type.get(type_name)
    return await loader.load(local_id) if loader is not None else None


async def nodes(ctx: Context, global_ids: list[str]) -> list[Any | None]:
    if len(global_ids) > MAX_NODES:
        raise RequestInputError(f"nodes takes at most {MAX_NODES} ids.")
    return list(await asyncio.gather(*(node(ctx, global_id) for global_id in global_ids)))
