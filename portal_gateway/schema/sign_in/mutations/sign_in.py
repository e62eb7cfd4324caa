"""signIn."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from portal_gateway.models.enums import PortalFlowType, PortalScope
from portal_gateway.resolvers import portal_sessions as session_resolvers
from portal_gateway.resolvers import viewer as viewer_resolvers
from portal_gateway.schema.accounts.types import Customer
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import InvalidTokenError, RateLimitedError, mutation
from portal_gateway.schema.nodes import related
from portal_gateway.schema.refs import BusinessRef, SubscriptionRef
from portal_gateway.services.portal_sessions import SignedIn


@strawberry.input
class SignInInput:
    token: str


@strawberry.type
class PortalFlow:
    type: PortalFlowType
    subscription: SubscriptionRef


@strawberry.type
class SignInSuccess:
    signed_in: strawberry.Private[SignedIn]

    @strawberry.field(
        description="Bearer token for API clients; browsers also get it as an HttpOnly cookie."
    )
    def access_token(self) -> str:
        return self.signed_in.access_token

    @strawberry.field
    def expires_at(self) -> datetime:
        return self.signed_in.session.expires_at

    @strawberry.field
    def scope(self) -> PortalScope:
        return self.signed_in.session.scope

    @strawberry.field
    async def business(self, info: Info) -> BusinessRef | None:
        return await related(info, "Business", self.signed_in.session.business_id)

    @strawberry.field
    async def viewer(self, info: Info) -> Customer:
        viewer = await viewer_resolvers.viewer(info.context)
        if viewer is None:
            raise LookupError("a new session has no account in scope")
        return Customer(row=viewer)

    @strawberry.field(description="The task a dynamic link was made for, if any.")
    async def flow(self, info: Info) -> PortalFlow | None:
        session = self.signed_in.session
        if session.flow_type is None:
            return None
        subscription = await related(info, "Subscription", session.flow_subscription_id)
        return (
            PortalFlow(type=session.flow_type, subscription=subscription) if subscription else None
        )

    @strawberry.field(
        description="Where to send the customer when done (from createPortalSession)."
    )
    def return_url(self) -> str | None:
        return self.signed_in.session.return_url


SignInResult = Annotated[
    SignInSuccess | InvalidTokenError | RateLimitedError, strawberry.union("SignInResult")
]


async def sign_in(info: Info, input: SignInInput) -> SignInResult:
    return SignInSuccess(signed_in=await session_resolvers.sign_in(info.context, input.token))


field = mutation(
    sign_in, description="Public. Exchanges a one-time token from a link for a portal session."
)
