"""requestSignInLink."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.resolvers import portal_sessions as session_resolvers
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import InvalidInputError, RateLimitedError, mutation


@strawberry.input
class RequestSignInLinkInput:
    email: str
    business_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The business of a static link: the session will be scoped to it. "
        "Omit for the unified portal.",
    )


@strawberry.type
class RequestSignInLinkPayload:
    accepted: bool = strawberry.field(description="True for every well-formed email, known or not.")


RequestSignInLinkResult = Annotated[
    RequestSignInLinkPayload | InvalidInputError | RateLimitedError,
    strawberry.union("RequestSignInLinkResult"),
]


async def request_sign_in_link(
    info: Info, input: RequestSignInLinkInput
) -> RequestSignInLinkResult:
    await session_resolvers.request_sign_in_link(
        info.context, email=input.email, business_id=input.business_id
    )
    return RequestSignInLinkPayload(accepted=True)


field = mutation(
    request_sign_in_link,
    description="Public. Emails a one-time sign-in link valid 24 h if the email belongs "
    "to a customer. Same answer either way.",
)
