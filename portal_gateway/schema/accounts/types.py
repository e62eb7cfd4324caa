"""CustomerAccount (the customer's record with one business) and Customer (the signed-in
person across the businesses in the session's scope)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from portal_gateway import models
from portal_gateway.models.enums import PortalScope, SubscriptionStatus
from portal_gateway.resolvers import accounts as account_resolvers
from portal_gateway.resolvers import viewer as viewer_resolvers
from portal_gateway.resolvers.viewer import Viewer
from portal_gateway.schema.connections import Connection
from portal_gateway.schema.context import Info
from portal_gateway.schema.nodes import (
    Node,
    column,
    global_id,
    node_type,
    related,
    relation,
    wrap,
)
from portal_gateway.schema.refs import (
    BusinessRef,
    InvoiceRef,
    LicenseKeyRef,
    PaymentMethodRef,
    PaymentRef,
    PurchaseRef,
    SubscriptionRef,
)
from portal_gateway.schema.values import Address, Money


@node_type
@strawberry.type(
    description="The customer's record with one business: what that business knows of them."
)
class CustomerAccount(Node):
    row: strawberry.Private[models.CustomerAccount]

    business: BusinessRef = relation("Business", "business_id", required=True)
    email: str = column("email")
    name: str = column("name")
    phone: str | None = column("phone")
    created_at: datetime = column("created_at")

    tax_id: str | None = column(
        "tax_id",
        description="The buyer's tax registration (e.g. a VAT id), printed on invoices issued "
        "after it is set.",
    )
    locale: str = column(
        "locale",
        description='BCP 47 language tag for emails, hosted pages and invoices, e.g. "de" or "pt".',
    )

    @strawberry.field
    def billing_address(self) -> Address | None:
        return Address.of(self.row, "address_")

    @strawberry.field(
        description="Credit from downgrades, per currency, used by later invoices first."
    )
    async def credit_balances(self, info: Info) -> list[Money]:
        balances = await info.context.loaders.credit_balances_by_account.load(self.row.id)
        return [Money.of(balance.amount_minor, balance.currency) for balance in balances]

    @strawberry.field(
        description="This account's subscriptions, newest first: what a merchant's key uses to "
        "find subscription ids for portal flows."
    )
    async def subscriptions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[SubscriptionRef]:
        return Connection.of(
            await account_resolvers.subscriptions_of(info.context, self.row, first, after)
        )


@strawberry.type(
    description="The signed-in person: one email, across every business in the session's scope."
)
class Customer(Node):
    row: strawberry.Private[Viewer]

    @strawberry.field(description="Opaque and stable for one email; does not reveal the email.")
    def id(self) -> strawberry.ID:
        return global_id(self)

    @strawberry.field
    def email(self) -> str:
        return self.row.accounts[0].email

    @strawberry.field(description="The name on the most recently updated account.")
    def name(self) -> str | None:
        return self.row.accounts[0].name

    @strawberry.field
    def phone(self) -> str | None:
        return next((a.phone for a in self.row.accounts if a.phone), None)

    @strawberry.field
    def scope(self) -> PortalScope:
        return self.row.principal.scope

    @strawberry.field(description="Set when scope is BUSINESS.")
    async def business(self, info: Info) -> BusinessRef | None:
        return await related(info, "Business", self.row.principal.business_id)

    @strawberry.field
    def accounts(self) -> list[CustomerAccount]:
        return [CustomerAccount(row=account) for account in self.row.accounts]

    @strawberry.field
    async def businesses(self, info: Info) -> list[BusinessRef]:
        return [wrap(row) for row in await viewer_resolvers.businesses(info.context, self.row)]

    @strawberry.field
    async def purchases(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
    ) -> Connection[PurchaseRef]:
        return Connection.of(
            await viewer_resolvers.purchases(info.context, first, after, business_id)
        )

    @strawberry.field
    async def subscriptions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
        status: list[SubscriptionStatus] | None = None,
    ) -> Connection[SubscriptionRef]:
        return Connection.of(
            await viewer_resolvers.subscriptions(info.context, first, after, business_id, status)
        )

    @strawberry.field
    async def invoices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
    ) -> Connection[InvoiceRef]:
        return Connection.of(
            await viewer_resolvers.invoices(info.context, first, after, business_id)
        )

    @strawberry.field
    async def payments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
    ) -> Connection[PaymentRef]:
        return Connection.of(
            await viewer_resolvers.payments(info.context, first, after, business_id)
        )

    @strawberry.field
    async def license_keys(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
    ) -> Connection[LicenseKeyRef]:
        return Connection.of(
            await viewer_resolvers.license_keys(info.context, first, after, business_id)
        )

    @strawberry.field
    async def payment_methods(
        self, info: Info, business_id: strawberry.ID | None = None
    ) -> list[PaymentMethodRef]:
        rows = await viewer_resolvers.payment_methods(info.context, business_id)
        return [wrap(row) for row in rows]


node_type(Customer, wraps=Viewer)
