"""addPaymentMethod."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.resolvers import payment_methods
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import (
    InvalidInputError,
    NotFoundError,
    PaymentFailedError,
    RateLimitedError,
    mutation,
)
from portal_gateway.schema.nodes import wrap
from portal_gateway.schema.payments.types import PaymentMethod
from portal_gateway.schema.permissions import IsCustomer


@strawberry.input
class AddPaymentMethodInput:
    business_id: strawberry.ID
    token: str = strawberry.field(
        description="A token from the payment processor's card tokenization. Card numbers are "
        "never accepted."
    )


@strawberry.type
class AddPaymentMethodSuccess:
    payment_method: PaymentMethod


AddPaymentMethodResult = Annotated[
    AddPaymentMethodSuccess
    | NotFoundError
    | InvalidInputError
    | PaymentFailedError
    | RateLimitedError,
    strawberry.union("AddPaymentMethodResult"),
]


async def add_payment_method(info: Info, input: AddPaymentMethodInput) -> AddPaymentMethodResult:
    card = await payment_methods.add(info.context, input.business_id, input.token)
    return AddPaymentMethodSuccess(payment_method=wrap(card))


field = mutation(
    add_payment_method,
    permission_classes=[IsCustomer],
    description="Saves a card for the customer's account at a business. Rate-limited per "
    "session and per account.",
)
