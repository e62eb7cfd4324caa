"""removePaymentMethod."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.core.ids import encode_global_id
from portal_gateway.resolvers import payment_methods
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import NotFoundError, PaymentMethodInUseError, mutation
from portal_gateway.schema.permissions import IsCustomer


@strawberry.input
class RemovePaymentMethodInput:
    payment_method_id: strawberry.ID


@strawberry.type
class RemovePaymentMethodSuccess:
    removed_payment_method_id: strawberry.ID = strawberry.field(
        description="The global id of the card that was removed."
    )


RemovePaymentMethodResult = Annotated[
    RemovePaymentMethodSuccess | NotFoundError | PaymentMethodInUseError,
    strawberry.union("RemovePaymentMethodResult"),
]


async def remove_payment_method(
    info: Info, input: RemovePaymentMethodInput
) -> RemovePaymentMethodResult:
    removed = await payment_methods.remove(info.context, input.payment_method_id)
    return RemovePaymentMethodSuccess(
        removed_payment_method_id=strawberry.ID(encode_global_id("PaymentMethod", removed))
    )


field = mutation(
    remove_payment_method,
    permission_classes=[IsCustomer],
    description="Removes a saved card. Refused while a subscription that can still be charged "
    "(PENDING, ACTIVE, ON_HOLD) uses it.",
)
