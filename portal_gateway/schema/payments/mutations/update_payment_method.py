"""updatePaymentMethod."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.resolvers import payment_methods
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import (
    ConflictError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    PaymentFailedError,
    RateLimitedError,
    mutation,
)
from portal_gateway.schema.nodes import related
from portal_gateway.schema.payments.types import PaymentMethod
from portal_gateway.schema.permissions import IsCustomer
from portal_gateway.schema.refs import InvoiceRef, PaymentRef, SubscriptionRef
from portal_gateway.services.card_updates import CardUpdated


@strawberry.input
class UpdatePaymentMethodInput:
    subscription_id: strawberry.ID
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A saved payment method of the subscription's business; or give token.",
    )
    token: str | None = strawberry.field(
        default=None, description="A new card's processor token; it is saved."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Unique per customer account and mutation. Same key, same input: the first "
        "result again, no second charge. Same key, other input: ConflictError.",
    )


@strawberry.type
class UpdatePaymentMethodSuccess:
    updated: strawberry.Private[CardUpdated]

    @strawberry.field
    async def subscription(self, info: Info) -> SubscriptionRef:
        node: SubscriptionRef | None = await related(
            info, "Subscription", self.updated.subscription_id
        )
        if node is None:
            raise LookupError("a subscription just updated is out of scope")
        return node

    @strawberry.field
    async def payment_method(self, info: Info) -> PaymentMethod:
        node: PaymentMethod | None = await related(
            info, "PaymentMethod", self.updated.payment_method_id
        )
        if node is None:
            raise LookupError("a card just used is out of scope")
        return node

    @strawberry.field(
        description="True when an ON_HOLD subscription was paid up and is ACTIVE again."
    )
    def reactivated(self) -> bool:
        return self.updated.reactivated

    @strawberry.field(description="The invoice for the outstanding dues, when they were charged.")
    async def invoice(self, info: Info) -> InvoiceRef | None:
        return await related(info, "Invoice", self.updated.invoice_id)

    @strawberry.field
    async def payment(self, info: Info) -> PaymentRef | None:
        return await related(info, "Payment", self.updated.payment_id)


UpdatePaymentMethodResult = Annotated[
    UpdatePaymentMethodSuccess
    | NotFoundError
    | InvalidInputError
    | InvalidStateError
    | PaymentFailedError
    | ConflictError
    | RateLimitedError,
    strawberry.union("UpdatePaymentMethodResult"),
]


async def update_payment_method(
    info: Info, input: UpdatePaymentMethodInput
) -> UpdatePaymentMethodResult:
    updated = await payment_methods.update(
        info.context,
        input.subscription_id,
        payment_method_id=input.payment_method_id,
        token=input.token,
        idempotency_key=input.idempotency_key,
    )
    return UpdatePaymentMethodSuccess(updated=updated)


field = mutation(
    update_payment_method,
    permission_classes=[IsCustomer],
    description="The card a subscription is charged with. An ON_HOLD subscription's dues are "
    "charged with it at once: paid, it is ACTIVE again. Rate-limited per session and per "
    "account.",
)
