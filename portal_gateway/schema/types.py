"""The portal's object types. They wrap rows; relations resolve through the request's loaders.

One module, because these types reference one another in a cycle
(Business ↔ CustomerAccount ↔ Subscription ↔ Invoice ↔ Payment).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from portal_gateway import models
from portal_gateway.core import errors as domain_errors
from portal_gateway.core.errors import DomainError
from portal_gateway.models.enums import (
    BillingInterval,
    CardBrand,
    InvoiceStatus,
    LicenseKeyStatus,
    PaymentStatus,
    PlanChangeDirection,
    PortalScope,
    ProductType,
    PurchaseStatus,
    SubscriptionStatus,
)
from portal_gateway.resolvers import business as business_resolvers
from portal_gateway.resolvers import subscription as subscription_resolvers
from portal_gateway.resolvers import subscriptions as subscription_mutations
from portal_gateway.resolvers import viewer as viewer_resolvers
from portal_gateway.resolvers.viewer import Viewer
from portal_gateway.schema.common import (
    Address,
    Connection,
    Error,
    Info,
    InvalidStateError,
    Money,
    Node,
    NotFoundError,
    PlanChangeNotAllowedError,
    error_member,
    global_id,
    wrap_all,
)
from portal_gateway.services.portal_sessions import static_portal_url


@strawberry.type
class Business(Node):
    row: strawberry.Private[models.Business]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Business", self.row.id)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def logo_url(self) -> str | None:
        return self.row.logo_url

    @strawberry.field
    def support_email(self) -> str | None:
        return self.row.support_email

    @strawberry.field
    def website_url(self) -> str | None:
        return self.row.website_url

    @strawberry.field(
        description="The never-expiring link where a customer enters an email to get a "
        "sign-in link for this business's portal."
    )
    def static_portal_url(self, info: Info) -> str:
        settings = info.context.settings
        return static_portal_url(settings.link_base_url, self.row.id, live=settings.is_live)

    @strawberry.field(
        description="Whether customers may upgrade or downgrade their plans in the portal."
    )
    def allow_subscription_updates(self) -> bool:
        return self.row.allow_subscription_updates

    @strawberry.field(
        description="This business's customers: null for anyone but this business's API key."
    )
    async def customers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        email: str | None = None,
    ) -> Connection[CustomerAccount] | None:
        page = await business_resolvers.customers(info.context, self.row, first, after, email)
        return Connection.of(page, CustomerAccount.of) if page is not None else None

    @classmethod
    def of(cls, row: models.Business) -> Business:
        return cls(row=row)


async def _business(info: Info, business_id: str) -> Business:
    row = await info.context.loaders.business.load(business_id)
    if row is None:  # an object in scope always has its business in scope
        raise LookupError(f"business {business_id} of an object in scope is not in scope")
    return Business.of(row)


@strawberry.type(
    description="The customer's record with one business: what that business knows of them."
)
class CustomerAccount(Node):
    row: strawberry.Private[models.CustomerAccount]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("CustomerAccount", self.row.id)

    @strawberry.field
    async def business(self, info: Info) -> Business:
        return await _business(info, self.row.business_id)

    @strawberry.field
    def email(self) -> str:
        return self.row.email

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def phone(self) -> str | None:
        return self.row.phone

    @strawberry.field
    def billing_address(self) -> Address | None:
        row = self.row
        if not (row.address_line1 and row.address_city and row.address_country):
            return None
        return Address(
            line1=row.address_line1,
            line2=row.address_line2,
            city=row.address_city,
            state=row.address_state,
            postal_code=row.address_postal_code,
            country=row.address_country,
        )

    @strawberry.field(
        description="Credit from downgrades, per currency, used by later invoices first."
    )
    async def credit_balances(self, info: Info) -> list[Money]:
        balances = await info.context.loaders.credit_balances_by_account.load(self.row.id)
        return [Money.of(balance.amount_minor, balance.currency) for balance in balances]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @classmethod
    def of(cls, row: models.CustomerAccount) -> CustomerAccount:
        return cls(row=row)


@strawberry.type(
    description="The signed-in person: one email, across every business in the session's scope."
)
class Customer(Node):
    viewer: strawberry.Private[Viewer]

    @strawberry.field(description="Opaque and stable for one email; does not reveal the email.")
    def id(self) -> strawberry.ID:
        return global_id("Customer", self.viewer.id)

    @strawberry.field
    def email(self) -> str:
        return self.viewer.accounts[0].email

    @strawberry.field(description="The name on the most recently updated account.")
    def name(self) -> str | None:
        return self.viewer.accounts[0].name

    @strawberry.field
    def phone(self) -> str | None:
        return next((a.phone for a in self.viewer.accounts if a.phone), None)

    @strawberry.field
    def scope(self) -> PortalScope:
        return self.viewer.principal.scope

    @strawberry.field(description="Set when scope is BUSINESS.")
    async def business(self, info: Info) -> Business | None:
        business_id = self.viewer.principal.business_id
        return await _business(info, business_id) if business_id else None

    @strawberry.field
    def accounts(self) -> list[CustomerAccount]:
        return wrap_all(self.viewer.accounts, CustomerAccount.of)

    @strawberry.field
    async def businesses(self, info: Info) -> list[Business]:
        return wrap_all(await viewer_resolvers.businesses(info.context, self.viewer), Business.of)

    @strawberry.field
    async def purchases(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
    ) -> Connection[Purchase]:
        page = await viewer_resolvers.purchases(info.context, first, after, business_id)
        return Connection.of(page, Purchase.of)

    @strawberry.field
    async def subscriptions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
        status: list[SubscriptionStatus] | None = None,
    ) -> Connection[Subscription]:
        page = await viewer_resolvers.subscriptions(info.context, first, after, business_id, status)
        return Connection.of(page, Subscription.of)

    @strawberry.field
    async def invoices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
    ) -> Connection[Invoice]:
        page = await viewer_resolvers.invoices(info.context, first, after, business_id)
        return Connection.of(page, Invoice.of)

    @strawberry.field
    async def payments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
    ) -> Connection[Payment]:
        page = await viewer_resolvers.payments(info.context, first, after, business_id)
        return Connection.of(page, Payment.of)

    @strawberry.field
    async def license_keys(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        business_id: strawberry.ID | None = None,
    ) -> Connection[LicenseKey]:
        page = await viewer_resolvers.license_keys(info.context, first, after, business_id)
        return Connection.of(page, LicenseKey.of)

    @strawberry.field
    async def payment_methods(
        self, info: Info, business_id: strawberry.ID | None = None
    ) -> list[PaymentMethod]:
        rows = await viewer_resolvers.payment_methods(info.context, business_id)
        return wrap_all(rows, PaymentMethod.of)

    @classmethod
    def of(cls, viewer: Viewer) -> Customer:
        return cls(viewer=viewer)


@strawberry.type
class Product(Node):
    row: strawberry.Private[models.Product]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Product", self.row.id)

    @strawberry.field
    async def business(self, info: Info) -> Business:
        return await _business(info, self.row.business_id)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def description(self) -> str | None:
        return self.row.description

    @strawberry.field
    def type(self) -> ProductType:
        return self.row.type

    @strawberry.field
    def price(self) -> Money:
        return Money.of(self.row.price_minor, self.row.currency)

    @strawberry.field
    def billing_interval(self) -> BillingInterval | None:
        return self.row.billing_interval

    @strawberry.field
    async def collection(self, info: Info) -> ProductCollection | None:
        if self.row.collection_id is None:
            return None
        row = await info.context.loaders.collection.load(self.row.collection_id)
        return ProductCollection.of(row) if row else None

    @classmethod
    def of(cls, row: models.Product) -> Product:
        return cls(row=row)


async def _product(info: Info, product_id: str) -> Product:
    row = await info.context.loaders.product.load(product_id)
    if row is None:
        raise LookupError(f"product {product_id} of an object in scope is not in scope")
    return Product.of(row)


@strawberry.type(
    description="Products among which a subscription may move: "
    "upgrade to a higher price, downgrade to a lower one."
)
class ProductCollection(Node):
    row: strawberry.Private[models.ProductCollection]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("ProductCollection", self.row.id)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    async def products(self, info: Info) -> list[Product]:
        rows = await info.context.loaders.products_by_collection.load(self.row.id)
        return wrap_all(rows, Product.of)

    @classmethod
    def of(cls, row: models.ProductCollection) -> ProductCollection:
        return cls(row=row)


@strawberry.type
class PlanChangeOption:
    product: Product
    direction: PlanChangeDirection


@strawberry.type
class Subscription(Node):
    row: strawberry.Private[models.Subscription]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Subscription", self.row.id)

    @strawberry.field
    async def business(self, info: Info) -> Business:
        return await _business(info, self.row.business_id)

    @strawberry.field
    async def account(self, info: Info) -> CustomerAccount:
        row = await info.context.loaders.account.load(self.row.account_id)
        if row is None:
            raise LookupError("the account of a subscription in scope is not in scope")
        return CustomerAccount.of(row)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await _product(info, self.row.product_id)

    @strawberry.field
    def status(self) -> SubscriptionStatus:
        return self.row.status

    @strawberry.field
    def quantity(self) -> int:
        return self.row.quantity

    @strawberry.field
    def recurring_price(self) -> Money:
        return Money.of(self.row.unit_price_minor * self.row.quantity, self.row.currency)

    @strawberry.field
    def billing_interval(self) -> BillingInterval:
        return self.row.billing_interval

    @strawberry.field
    def current_period_start(self) -> datetime:
        return self.row.current_period_start

    @strawberry.field
    def current_period_end(self) -> datetime:
        return self.row.current_period_end

    @strawberry.field(description="When the next renewal is charged; null once it will not renew.")
    def next_billing_date(self) -> datetime | None:
        row = self.row
        if row.status is not models.enums.SubscriptionStatus.ACTIVE or row.cancel_at_period_end:
            return None
        if row.ends_at is not None and row.ends_at <= row.current_period_end:
            return None
        return row.current_period_end

    @strawberry.field
    def cancel_at_period_end(self) -> bool:
        return self.row.cancel_at_period_end

    @strawberry.field
    def cancelled_at(self) -> datetime | None:
        return self.row.cancelled_at

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    async def payment_method(self, info: Info) -> PaymentMethod | None:
        if self.row.payment_method_id is None:
            return None
        row = await info.context.loaders.payment_method.load(self.row.payment_method_id)
        return PaymentMethod.of(row) if row else None

    @strawberry.field(
        description="What must be paid to reactivate an ON_HOLD subscription; zero otherwise."
    )
    def outstanding_amount(self) -> Money:
        on_hold = self.row.status is models.enums.SubscriptionStatus.ON_HOLD
        return Money.of(self.row.dues_minor if on_hold else 0, self.row.currency)

    @strawberry.field(
        description="Plans of the same collection that this subscription may move to now; "
        "empty when the business disallows changes."
    )
    async def plan_change_options(self, info: Info) -> list[PlanChangeOption]:
        options = await subscription_resolvers.plan_change_options_of(info.context, self.row)
        return [
            PlanChangeOption(product=Product.of(option.product), direction=option.direction)
            for option in options
        ]

    @strawberry.field
    async def invoices(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Invoice]:
        page = await subscription_resolvers.invoices_of(info.context, self.row, first, after)
        return Connection.of(page, Invoice.of)

    @strawberry.field(description="What moving to productId would cost now. Changes nothing.")
    async def plan_change_preview(
        self, info: Info, product_id: strawberry.ID
    ) -> PlanChangePreviewResult:
        outcome = await subscription_mutations.preview(info.context, self.row, product_id)
        if isinstance(outcome, DomainError):
            return error_result(outcome)  # type: ignore[no-any-return]
        quote = outcome.quote
        return PlanChangePreview(
            product=Product.of(outcome.product),
            direction=outcome.direction,
            amount_due_now=Money.of(quote.amount_due_minor, quote.currency),
            credit_issued=Money.of(quote.credit_added_minor, quote.currency),
            new_recurring_price=Money.of(outcome.new_recurring_minor, quote.currency),
            next_billing_date=self.row.current_period_end,
        )

    @classmethod
    def of(cls, row: models.Subscription) -> Subscription:
        return cls(row=row)


@strawberry.type(
    description="Something the customer bought: a one-time product, "
    "or the first payment of a subscription."
)
class Purchase(Node):
    row: strawberry.Private[models.Purchase]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Purchase", self.row.id)

    @strawberry.field
    async def business(self, info: Info) -> Business:
        return await _business(info, self.row.business_id)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await _product(info, self.row.product_id)

    @strawberry.field
    def quantity(self) -> int:
        return self.row.quantity

    @strawberry.field
    def total(self) -> Money:
        return Money.of(self.row.total_minor, self.row.currency)

    @strawberry.field
    def status(self) -> PurchaseStatus:
        return self.row.status

    @strawberry.field
    def purchased_at(self) -> datetime:
        return self.row.purchased_at

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice | None:
        if self.row.invoice_id is None:
            return None
        row = await info.context.loaders.invoice.load(self.row.invoice_id)
        return Invoice.of(row) if row else None

    @strawberry.field
    async def subscription(self, info: Info) -> Subscription | None:
        if self.row.subscription_id is None:
            return None
        row = await info.context.loaders.subscription.load(self.row.subscription_id)
        return Subscription.of(row) if row else None

    @strawberry.field
    async def license_keys(self, info: Info) -> list[LicenseKey]:
        rows = await info.context.loaders.license_keys_by_purchase.load(self.row.id)
        return wrap_all(rows, LicenseKey.of)

    @classmethod
    def of(cls, row: models.Purchase) -> Purchase:
        return cls(row=row)


@strawberry.type
class InvoiceLine:
    row: strawberry.Private[models.InvoiceLine]
    currency: strawberry.Private[str]

    @strawberry.field
    def description(self) -> str:
        return self.row.description

    @strawberry.field
    def quantity(self) -> int:
        return self.row.quantity

    @strawberry.field
    def unit_amount(self) -> Money:
        return Money.of(self.row.unit_amount_minor, self.currency)

    @strawberry.field
    def amount(self) -> Money:
        return Money.of(self.row.amount_minor, self.currency)

    @strawberry.field
    def proration(self) -> bool:
        return self.row.proration

    @strawberry.field
    def period_start(self) -> datetime | None:
        return self.row.period_start

    @strawberry.field
    def period_end(self) -> datetime | None:
        return self.row.period_end


@strawberry.type
class Invoice(Node):
    row: strawberry.Private[models.Invoice]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Invoice", self.row.id)

    @strawberry.field(
        description="Per business: prefix, year of issue, and a running sequence that never "
        "resets or skips, e.g. ACME-2026-000042."
    )
    def number(self) -> str:
        return self.row.number

    @strawberry.field
    async def business(self, info: Info) -> Business:
        return await _business(info, self.row.business_id)

    @strawberry.field
    def status(self) -> InvoiceStatus:
        return self.row.status

    @strawberry.field
    def issued_at(self) -> datetime:
        return self.row.issued_at

    @strawberry.field
    def subtotal(self) -> Money:
        return Money.of(self.row.subtotal_minor, self.row.currency)

    @strawberry.field
    def tax(self) -> Money:
        return Money.of(self.row.tax_minor, self.row.currency)

    @strawberry.field
    def total(self) -> Money:
        return Money.of(self.row.total_minor, self.row.currency)

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await info.context.loaders.lines_by_invoice.load(self.row.id)
        return [InvoiceLine(row=line, currency=self.row.currency) for line in rows]

    @strawberry.field
    async def subscription(self, info: Info) -> Subscription | None:
        if self.row.subscription_id is None:
            return None
        row = await info.context.loaders.subscription.load(self.row.subscription_id)
        return Subscription.of(row) if row else None

    @strawberry.field
    async def payment(self, info: Info) -> Payment | None:
        row = await info.context.loaders.payment_by_invoice.load(self.row.id)
        return Payment.of(row) if row else None

    @classmethod
    def of(cls, row: models.Invoice) -> Invoice:
        return cls(row=row)


@strawberry.type(description="A transaction: one charge of a payment method.")
class Payment(Node):
    row: strawberry.Private[models.Payment]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Payment", self.row.id)

    @strawberry.field
    async def business(self, info: Info) -> Business:
        return await _business(info, self.row.business_id)

    @strawberry.field
    def amount(self) -> Money:
        return Money.of(self.row.amount_minor, self.row.currency)

    @strawberry.field
    def status(self) -> PaymentStatus:
        return self.row.status

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    async def payment_method(self, info: Info) -> PaymentMethod | None:
        if self.row.payment_method_id is None:
            return None
        row = await info.context.loaders.payment_method.load(self.row.payment_method_id)
        return PaymentMethod.of(row) if row else None

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice | None:
        if self.row.invoice_id is None:
            return None
        row = await info.context.loaders.invoice.load(self.row.invoice_id)
        return Invoice.of(row) if row else None

    @strawberry.field
    def failure_code(self) -> str | None:
        return self.row.failure_code

    @strawberry.field
    def failure_message(self) -> str | None:
        return self.row.failure_message

    @classmethod
    def of(cls, row: models.Payment) -> Payment:
        return cls(row=row)


@strawberry.type
class LicenseKey(Node):
    row: strawberry.Private[models.LicenseKey]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("LicenseKey", self.row.id)

    @strawberry.field
    def key(self) -> str:
        return self.row.key

    @strawberry.field
    def status(self) -> LicenseKeyStatus:
        return self.row.status

    @strawberry.field
    async def business(self, info: Info) -> Business:
        return await _business(info, self.row.business_id)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await _product(info, self.row.product_id)

    @strawberry.field
    async def purchase(self, info: Info) -> Purchase | None:
        if self.row.purchase_id is None:
            return None
        row = await info.context.loaders.purchase.load(self.row.purchase_id)
        return Purchase.of(row) if row else None

    @strawberry.field
    def activations_limit(self) -> int | None:
        return self.row.activations_limit

    @strawberry.field
    def activations_used(self) -> int:
        return self.row.activations_used

    @strawberry.field
    def expires_at(self) -> datetime | None:
        return self.row.expires_at

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @classmethod
    def of(cls, row: models.LicenseKey) -> LicenseKey:
        return cls(row=row)


@strawberry.type(description="A saved card, as the customer may see it: never the number.")
class PaymentMethod(Node):
    row: strawberry.Private[models.PaymentMethod]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("PaymentMethod", self.row.id)

    @strawberry.field
    async def business(self, info: Info) -> Business:
        return await _business(info, self.row.business_id)

    @strawberry.field
    def brand(self) -> CardBrand:
        return self.row.brand

    @strawberry.field
    def last4(self) -> str:
        return self.row.last4

    @strawberry.field
    def exp_month(self) -> int:
        return self.row.exp_month

    @strawberry.field
    def exp_year(self) -> int:
        return self.row.exp_year

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @classmethod
    def of(cls, row: models.PaymentMethod) -> PaymentMethod:
        return cls(row=row)


@strawberry.type
class PlanChangePreview:
    product: Product
    direction: PlanChangeDirection
    amount_due_now: Money = strawberry.field(
        description="Charged at once when the change is made (prorated)."
    )
    credit_issued: Money = strawberry.field(
        description="Credited to the account for later invoices (downgrades)."
    )
    new_recurring_price: Money
    next_billing_date: datetime | None


# InvalidStateError is not in the contract's union; a preview for a subscription that is
# not ACTIVE needs it (the reasons of PlanChangeNotAllowedError are all about the target).
PlanChangePreviewResult = Annotated[
    PlanChangePreview | NotFoundError | PlanChangeNotAllowedError | InvalidStateError,
    strawberry.union("PlanChangePreviewResult"),
]


@strawberry.type(
    description="The processor declined the charge: a FAILED payment is recorded "
    "and nothing else changed."
)
class PaymentFailedError(Error):
    decline_code: str | None
    payment_id: strawberry.Private[str | None]

    @strawberry.field
    async def payment(self, info: Info) -> Payment | None:
        if self.payment_id is None:
            return None
        row = await info.context.loaders.payment.load(self.payment_id)
        return Payment.of(row) if row else None


def error_result(error: DomainError) -> Any:
    """The union member for any domain error (PaymentFailedError needs Payment, hence here)."""
    if isinstance(error, domain_errors.PaymentFailedError):
        return PaymentFailedError(
            message=error.message,
            code=error.code,
            decline_code=error.decline_code,
            payment_id=error.payment_id,
        )
    return error_member(error)


NODE_TYPES: dict[type, Any] = {
    models.Business: Business,
    models.CustomerAccount: CustomerAccount,
    models.Product: Product,
    models.ProductCollection: ProductCollection,
    models.Subscription: Subscription,
    models.Purchase: Purchase,
    models.Invoice: Invoice,
    models.Payment: Payment,
    models.PaymentMethod: PaymentMethod,
    models.LicenseKey: LicenseKey,
    Viewer: Customer,
}


def as_node(row: object | None) -> Node | None:
    """The GraphQL object for a row that `node` found."""
    if row is None:
        return None
    node: Node = NODE_TYPES[type(row)].of(row)
    return node
