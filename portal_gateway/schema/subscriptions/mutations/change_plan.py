"""changePlan."""

from __future__ import annotations

from typing import Annotated

import strawberry

from portal_gateway.models.enums import PlanChangeDirection
from portal_gateway.resolvers import subscriptions as subscription_resolvers
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import (
    ConflictError,
    InvalidStateError,
    NotFoundError,
    PaymentFailedError,
    PlanChangeNotAllowedError,
    mutation,
)
from portal_gateway.schema.nodes import related
from portal_gateway.schema.permissions import IsCustomer
from portal_gateway.schema.refs import InvoiceRef, PaymentRef
from portal_gateway.schema.subscriptions.types import Subscription
from portal_gateway.services.plan_changes import PlanChanged


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
    changed: strawberry.Private[PlanChanged]

    @strawberry.field
    async def subscription(self, info: Info) -> Subscription:
        node: Subscription | None = await related(
            info, "Subscription", self.changed.subscription_id
        )
        if node is None:
            raise LookupError("a subscription just changed is out of scope")
        return node

    @strawberry.field
    def direction(self) -> PlanChangeDirection:
        return self.changed.direction

    @strawberry.field(description="The proration invoice, when something was charged.")
    async def invoice(self, info: Info) -> InvoiceRef | None:
        return await related(info, "Invoice", self.changed.invoice_id)

    @strawberry.field
    async def payment(self, info: Info) -> PaymentRef | None:
        return await related(info, "Payment", self.changed.payment_id)


ChangePlanResult = Annotated[
    ChangePlanSuccess
    | NotFoundError
    | PlanChangeNotAllowedError
    | InvalidStateError
    | PaymentFailedError
    | ConflictError,
    strawberry.union("ChangePlanResult"),
]


async def change_plan(info: Info, input: ChangePlanInput) -> ChangePlanResult:
    changed = await subscription_resolvers.change_plan(
        info.context, input.subscription_id, input.product_id, input.idempotency_key
    )
    return ChangePlanSuccess(changed=changed)


field = mutation(change_plan, permission_classes=[IsCustomer])
