"""createPortalSession."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from portal_gateway.models.enums import PortalFlowType
from portal_gateway.resolvers import portal_sessions as session_resolvers
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import InvalidInputError, NotFoundError, mutation
from portal_gateway.schema.permissions import IsMerchant


@strawberry.input
class PortalFlowInput:
    type: PortalFlowType
    subscription_id: strawberry.ID


@strawberry.input
class CreatePortalSessionInput:
    customer_id: strawberry.ID = strawberry.field(
        description="A CustomerAccount of the calling business."
    )
    return_url: str | None = strawberry.field(
        default=None, description="Absolute http(s) URL; https only in live mode."
    )
    send_email: bool | None = strawberry.field(
        default=False, description="Also email the link to the customer."
    )
    expires_in: int | None = strawberry.field(
        default=None, description="Seconds the link stays valid, 60 to 86400; default 86400."
    )
    flow: PortalFlowInput | None = strawberry.field(
        default=None, description="Open the portal straight at one task."
    )


@strawberry.type
class PortalLink:
    url: str
    expires_at: datetime


CreatePortalSessionResult = Annotated[
    PortalLink | NotFoundError | InvalidInputError,
    strawberry.union("CreatePortalSessionResult"),
]


async def create_portal_session(
    info: Info, input: CreatePortalSessionInput
) -> CreatePortalSessionResult:
    issued = await session_resolvers.create_portal_session(
        info.context,
        customer_id=input.customer_id,
        return_url=input.return_url,
        send_email=bool(input.send_email),
        expires_in=input.expires_in,
        flow_type=input.flow.type if input.flow else None,
        flow_subscription_id=input.flow.subscription_id if input.flow else None,
    )
    return PortalLink(url=issued.url, expires_at=issued.expires_at)


field = mutation(
    create_portal_session,
    description="Merchant API key. A one-time dynamic link, valid 24 h at most, into this "
    "business's portal for one of its customers.",
    permission_classes=[IsMerchant],
)
