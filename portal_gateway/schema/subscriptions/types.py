"""Subscription, its plan-change options and the preview of a change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from portal_gateway import models
from portal_gateway.models.enums import BillingInterval, PlanChangeDirection, SubscriptionStatus
from portal_gateway.resolvers import subscriptions as subscription_resolvers
from portal_gateway.schema.connections import Connection
from portal_gateway.schema.context import Info
from portal_gateway.schema.errors import (
    ErrorsAsResults,
    InvalidStateError,
    NotFoundError,
    PlanChangeNotAllowedError,
)
from portal_gateway.schema.nodes import Node, column, node_type, relation, wrap
from portal_gateway.schema.refs import (
    BusinessRef,
    CustomerAccountRef,
    InvoiceRef,
    PaymentMethodRef,
    ProductRef,
)
from portal_gateway.schema.values import Money
from portal_gateway.services import subscription_facts


@strawberry.type
class PlanChangeOption:
    product: ProductRef
    direction: PlanChangeDirection


@strawberry.type
class PlanChangePreview:
    product: ProductRef
    direction: PlanChangeDirection
    amount_due_now: Money = strawberry.field(
        description="Charged at once when the change is made (prorated)."
    )
    credit_issued: Money = strawberry.field(
        description="Credited to the account for later invoices (downgrades)."
    )
    new_recurring_price: Money
    next_billing_date: datetime | None


# InvalidStateError was not in the contract's first union; a preview for a subscription that
# is not ACTIVE needs it (the reasons of PlanChangeNotAllowedError are all about the target).
PlanChangePreviewResult = Annotated[
    PlanChangePreview | NotFoundError | PlanChangeNotAllowedError | InvalidStateError,
    strawberry.union("PlanChangePreviewResult"),
]


@node_type
@strawberry.type
class Subscription(Node):
    row: strawberry.Private[models.Subscription]

    business: BusinessRef = relation("Business", "business_id", required=True)
    account: CustomerAccountRef = relation("CustomerAccount", "account_id", required=True)
    product: ProductRef = relation("Product", "product_id", required=True)
    status: SubscriptionStatus = column("status")
    quantity: int = column("quantity")
    billing_interval: BillingInterval = column("billing_interval")
    current_period_start: datetime = column("current_period_start")
    current_period_end: datetime = column("current_period_end")
    cancel_at_period_end: bool = column("cancel_at_period_end")
    cancelled_at: datetime | None = column("cancelled_at")
    created_at: datetime = column("created_at")
    payment_method: PaymentMethodRef | None = relation("PaymentMethod", "payment_method_id")

    @strawberry.field
    def recurring_price(self) -> Money:
        return Money.of(subscription_facts.recurring_minor(self.row), self.row.currency)

    @strawberry.field(description="When the next renewal is charged; null once it will not renew.")
    def next_billing_date(self) -> datetime | None:
        return subscription_facts.next_billing_date(self.row)

    @strawberry.field(
        description="What must be paid to reactivate an ON_HOLD subscription; zero otherwise."
    )
    def outstanding_amount(self) -> Money:
        return Money.of(subscription_facts.outstanding_minor(self.row), self.row.currency)

    @strawberry.field(
        description="Plans of the same collection that this subscription may move to now; "
        "empty when the business disallows changes."
    )
    async def plan_change_options(self, info: Info) -> list[PlanChangeOption]:
        options = await subscription_resolvers.plan_change_options_of(info.context, self.row)
        return [
            PlanChangeOption(product=wrap(option.product), direction=option.direction)
            for option in options
        ]

    @strawberry.field
    async def invoices(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[InvoiceRef]:
        page = await subscription_resolvers.invoices_of(info.context, self.row, first, after)
        return Connection.of(page)

    @strawberry.field(
        description="What moving to productId would cost now. Changes nothing.",
        extensions=[ErrorsAsResults()],
    )
    async def plan_change_preview(
        self, info: Info, product_id: strawberry.ID
    ) -> PlanChangePreviewResult:
        preview = await subscription_resolvers.preview_plan_change(
            info.context, self.row, product_id
        )
        quote = preview.quote
        return PlanChangePreview(
            product=wrap(preview.product),
            direction=preview.direction,
            amount_due_now=Money.of(quote.amount_due_minor, quote.currency),
            credit_issued=Money.of(quote.credit_added_minor, quote.currency),
            new_recurring_price=Money.of(preview.new_recurring_minor, quote.currency),
            next_billing_date=preview.next_billing_date,
        )
