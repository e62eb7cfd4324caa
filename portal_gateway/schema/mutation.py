"""The Mutation root: each field parses its input, calls one resolver, wraps the result."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from portal_gateway.core.errors import DomainError
from portal_gateway.models.enums import (
    PlanChangeDirection,
    PortalFlowType,
    PortalScope,
)
from portal_gateway.resolvers import accounts as account_resolvers
from portal_gateway.resolvers import portal_sessions as session_resolvers
from portal_gateway.resolvers import sign_in as sign_in_resolvers
from portal_gateway.resolvers import subscriptions as subscription_mutations
from portal_gateway.resolvers import viewer as viewer_resolvers
from portal_gateway.resolvers.portal_sessions import SignedIn
from portal_gateway.schema.common import (
    ConflictError,
    Info,
    InvalidInputError,
    InvalidStateError,
    InvalidTokenError,
    NotFoundError,
    PlanChangeNotAllowedError,
    RateLimitedError,
)
from portal_gateway.schema.permissions import IsCustomer, IsMerchant
from portal_gateway.schema.types import (
    Business,
    Customer,
    CustomerAccount,
    Invoice,
    Payment,
    PaymentFailedError,
    Subscription,
    error_result,
)
from portal_gateway.services import accounts as services_accounts


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


@strawberry.input
class SignInInput:
    token: str


@strawberry.type
class PortalFlow:
    type: PortalFlowType
    subscription: Subscription


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
    async def business(self, info: Info) -> Business | None:
        business_id = self.signed_in.session.business_id
        row = await info.context.loaders.business.load(business_id) if business_id else None
        return Business.of(row) if row else None

    @strawberry.field
    async def viewer(self, info: Info) -> Customer:
        viewer = await viewer_resolvers.viewer(info.context)
        if viewer is None:
            raise LookupError("a new session has no account in scope")
        return Customer.of(viewer)

    @strawberry.field(description="The task a dynamic link was made for, if any.")
    async def flow(self, info: Info) -> PortalFlow | None:
        session = self.signed_in.session
        if session.flow_type is None or session.flow_subscription_id is None:
            return None
        row = await info.context.loaders.subscription.load(session.flow_subscription_id)
        return (
            PortalFlow(type=session.flow_type, subscription=Subscription.of(row)) if row else None
        )

    @strawberry.field(
        description="Where to send the customer when done (from createPortalSession)."
    )
    def return_url(self) -> str | None:
        return self.signed_in.session.return_url


SignInResult = Annotated[
    SignInSuccess | InvalidTokenError | RateLimitedError, strawberry.union("SignInResult")
]


@strawberry.type
class SignOutPayload:
    ok: bool


@strawberry.input
class AddressInput:
    line1: str
    line2: str | None = None
    city: str
    state: str | None = None
    postal_code: str | None = None
    country: str


@strawberry.input
class UpdateBillingDetailsInput:
    account_id: strawberry.ID
    name: str | None = None
    phone: str | None = None
    billing_address: AddressInput | None = None


@strawberry.type
class UpdateBillingDetailsSuccess:
    account: CustomerAccount


UpdateBillingDetailsResult = Annotated[
    UpdateBillingDetailsSuccess | NotFoundError | InvalidInputError,
    strawberry.union("UpdateBillingDetailsResult"),
]


@strawberry.input
class UpdateBusinessSettingsInput:
    allow_subscription_updates: bool | None = None


@strawberry.type
class UpdateBusinessSettingsSuccess:
    business: Business


UpdateBusinessSettingsResult = Annotated[
    UpdateBusinessSettingsSuccess | InvalidInputError,
    strawberry.union("UpdateBusinessSettingsResult"),
]


@strawberry.input
class CancelSubscriptionInput:
    subscription_id: strawberry.ID
    at_period_end: bool = strawberry.field(
        default=True,
        description="True: it stays active until currentPeriodEnd, then ends. False: it ends "
        "now. An ON_HOLD subscription always ends now.",
    )
    reason: str | None = None


@strawberry.type
class CancelSubscriptionSuccess:
    subscription: Subscription


CancelSubscriptionResult = Annotated[
    CancelSubscriptionSuccess | NotFoundError | InvalidStateError | ConflictError,
    strawberry.union("CancelSubscriptionResult"),
]


@strawberry.input
class ResumeSubscriptionInput:
    subscription_id: strawberry.ID


@strawberry.type
class ResumeSubscriptionSuccess:
    subscription: Subscription


ResumeSubscriptionResult = Annotated[
    ResumeSubscriptionSuccess | NotFoundError | InvalidStateError | ConflictError,
    strawberry.union("ResumeSubscriptionResult"),
]


@strawberry.input
class ChangePlanInput:
    subscription_id: strawberry.ID
    product_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Unique per customer account and mutation. Same key, same input: the first "
        "result again, no second charge. Same key, other input: ConflictError.",
    )


@strawberry.type
class ChangePlanSuccess:
    subscription: Subscription
    direction: PlanChangeDirection
    invoice: Invoice | None = strawberry.field(
        description="The proration invoice, when something was charged."
    )
    payment: Payment | None


ChangePlanResult = Annotated[
    ChangePlanSuccess
    | NotFoundError
    | PlanChangeNotAllowedError
    | InvalidStateError
    | PaymentFailedError
    | ConflictError,
    strawberry.union("ChangePlanResult"),
]


async def _subscription(info: Info, subscription_id: str) -> Subscription:
    row = await info.context.loaders.subscription.load(subscription_id)
    if row is None:
        raise LookupError("a subscription just changed is out of scope")
    return Subscription.of(row)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Public. Emails a one-time sign-in link valid 24 h if the email belongs "
        "to a customer. Same answer either way."
    )
    async def request_sign_in_link(
        self, info: Info, input: RequestSignInLinkInput
    ) -> RequestSignInLinkResult:
        ctx = info.context
        outcome = await sign_in_resolvers.request_sign_in_link(
            ctx.db,
            ctx.rate_limits,
            ctx.principal,
            ctx.client_address,
            email=input.email,
            business_id=input.business_id,
        )
        if isinstance(outcome, DomainError):
            return error_result(outcome)  # type: ignore[no-any-return]
        return RequestSignInLinkPayload(accepted=outcome)

    @strawberry.mutation(
        description="Public. Exchanges a one-time token from a link for a portal session."
    )
    async def sign_in(self, info: Info, input: SignInInput) -> SignInResult:
        outcome = await session_resolvers.sign_in(info.context, input.token)
        if isinstance(outcome, DomainError):
            return error_result(outcome)  # type: ignore[no-any-return]
        return SignInSuccess(signed_in=outcome)

    @strawberry.mutation(
        description="Ends the current portal session.", permission_classes=[IsCustomer]
    )
    async def sign_out(self, info: Info) -> SignOutPayload:
        return SignOutPayload(ok=await session_resolvers.sign_out(info.context))

    @strawberry.mutation(
        description="Merchant API key. A one-time dynamic link, valid 24 h at most, into this "
        "business's portal for one of its customers.",
        permission_classes=[IsMerchant],
    )
    async def create_portal_session(
        self, info: Info, input: CreatePortalSessionInput
    ) -> CreatePortalSessionResult:
        outcome = await session_resolvers.create_portal_session(
            info.context,
            customer_id=input.customer_id,
            return_url=input.return_url,
            send_email=bool(input.send_email),
            expires_in=input.expires_in,
            flow_type=input.flow.type if input.flow else None,
            flow_subscription_id=input.flow.subscription_id if input.flow else None,
        )
        if isinstance(outcome, DomainError):
            return error_result(outcome)  # type: ignore[no-any-return]
        return PortalLink(url=outcome.url, expires_at=outcome.expires_at)

    @strawberry.mutation(description="Merchant API key.", permission_classes=[IsMerchant])
    async def update_business_settings(
        self, info: Info, input: UpdateBusinessSettingsInput
    ) -> UpdateBusinessSettingsResult:
        outcome = await account_resolvers.update_business_settings(
            info.context, allow_subscription_updates=input.allow_subscription_updates
        )
        if isinstance(outcome, DomainError):
            return error_result(outcome)  # type: ignore[no-any-return]
        return UpdateBusinessSettingsSuccess(business=Business.of(outcome))

    @strawberry.mutation(permission_classes=[IsCustomer])
    async def update_billing_details(
        self, info: Info, input: UpdateBillingDetailsInput
    ) -> UpdateBillingDetailsResult:
        address = input.billing_address
        outcome = await account_resolvers.update_billing_details(
            info.context,
            input.account_id,
            name=input.name,
            phone=input.phone,
            address=services_accounts.AddressInput(
                line1=address.line1,
                line2=address.line2,
                city=address.city,
                state=address.state,
                postal_code=address.postal_code,
                country=address.country,
            )
            if address is not None
            else None,
        )
        if isinstance(outcome, DomainError):
            return error_result(outcome)  # type: ignore[no-any-return]
        return UpdateBillingDetailsSuccess(account=CustomerAccount.of(outcome))

    @strawberry.mutation(permission_classes=[IsCustomer])
    async def cancel_subscription(
        self, info: Info, input: CancelSubscriptionInput
    ) -> CancelSubscriptionResult:
        outcome = await subscription_mutations.cancel(
            info.context, input.subscription_id, at_period_end=input.at_period_end,
            reason=input.reason,
        )  # fmt: skip
        if isinstance(outcome, DomainError):
            return error_result(outcome)  # type: ignore[no-any-return]
        return CancelSubscriptionSuccess(subscription=await _subscription(info, outcome.id))

    @strawberry.mutation(
        description="Undoes a cancellation scheduled for the period end; the subscription "
        "renews again.",
        permission_classes=[IsCustomer],
    )
    async def resume_subscription(
        self, info: Info, input: ResumeSubscriptionInput
    ) -> ResumeSubscriptionResult:
        outcome = await subscription_mutations.resume(info.context, input.subscription_id)
        if isinstance(outcome, DomainError):
            return error_result(outcome)  # type: ignore[no-any-return]
        return ResumeSubscriptionSuccess(subscription=await _subscription(info, outcome.id))

    @strawberry.mutation(permission_classes=[IsCustomer])
    async def change_plan(self, info: Info, input: ChangePlanInput) -> ChangePlanResult:
        outcome = await subscription_mutations.change_plan(
            info.context, input.subscription_id, input.product_id, input.idempotency_key
        )
        if isinstance(outcome, DomainError):
            return error_result(outcome)  # type: ignore[no-any-return]
        loaders = info.context.loaders
        invoice = await loaders.invoice.load(outcome.invoice_id) if outcome.invoice_id else None
        payment = await loaders.payment.load(outcome.payment_id) if outcome.payment_id else None
        return ChangePlanSuccess(
            subscription=await _subscription(info, outcome.subscription_id),
            direction=outcome.direction,
            invoice=Invoice.of(invoice) if invoice else None,
            payment=Payment.of(payment) if payment else None,
        )
