"""Which GraphQL fields the compiler knows, and how each maps onto its table.

One entry per field of a node type. A field missing here does not compile: a root field
whose selection reaches it is answered by Strawberry. Rules that compute a field from its
row (prices, dates, options, links) are the same functions the Strawberry types call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement

from portal_gateway import models
from portal_gateway.models.base import Base
from portal_gateway.queries.payments import settling_first
from portal_gateway.services import subscription_facts


@dataclass(frozen=True)
class Column:
    """The row's `attribute`, as stored."""

    attribute: str


@dataclass(frozen=True)
class GlobalId:
    """The node's global id: its type name and its row id."""


@dataclass(frozen=True)
class MoneyColumn:
    """Money from a minor-unit column and the row's currency (None: the parent's currency,
    as an invoice line's)."""

    amount: str
    currency: str | None = "currency"


@dataclass(frozen=True)
class Computed:
    """A value computed from some of the row's columns by a plain function of an object
    with those attributes (enums as enums); `money`: it is minor units of the row's
    currency."""

    attributes: tuple[str, ...]
    rule: Callable[[Any], Any]
    money: bool = False


@dataclass(frozen=True)
class Related:
    """The node whose id the row keeps in `foreign_key`, joined with its own scope.
    `required`: an object in scope always has it in scope too."""

    type_name: str
    foreign_key: str
    required: bool = False


@dataclass(frozen=True)
class Children:
    """The rows of `type_name` that point at this one through `parent_key`, in `order`,
    within their own scope (or the parent's, when `scoped` is False: an invoice's lines
    are in scope with their invoice). `first`: the field is the first of them, or null."""

    type_name: str
    model: type[Base]
    parent_key: str
    order: Callable[[Any], tuple[ColumnElement[Any], ...]]
    where: Callable[[Any], tuple[ColumnElement[bool], ...]] = lambda _: ()
    scoped: bool = True
    first: bool = False
    parent_currency: bool = False


@dataclass(frozen=True)
class CreditBalances:
    """An account's non-zero credit per currency, as Money, by currency."""


@dataclass(frozen=True)
class PlanChangeOptions:
    """The plans a subscription may move to now (services.plan_change_rules)."""


@dataclass(frozen=True)
class InvoicePdfUrl:
    """A short-lived signed link to the invoice's PDF."""


@dataclass(frozen=True)
class StaticPortalUrl:
    """A business's never-expiring sign-in link."""


@dataclass(frozen=True)
class AddressColumns:
    """An address from the row's `<prefix>line1`, ... columns (core.addresses)."""

    prefix: str = "address_"


@dataclass(frozen=True)
class ChildConnection:
    """A keyset page of the rows of `type_name` that point at this one through
    `parent_key`, in their own scope, with totalCount (first, after)."""

    type_name: str
    model: type[Base]
    parent_key: str


@dataclass(frozen=True)
class BusinessCustomers:
    """A business's customers (first, after, email): for its own API key only, else null."""


FieldSpec = (
    Column
    | StaticPortalUrl
    | AddressColumns
    | ChildConnection
    | BusinessCustomers
    | GlobalId
    | MoneyColumn
    | Computed
    | Related
    | Children
    | CreditBalances
    | PlanChangeOptions
    | InvoicePdfUrl
)


@dataclass(frozen=True)
class Entity:
    model: type[Base]
    fields: dict[str, FieldSpec] = field(default_factory=dict)


def _columns(**names: str) -> dict[str, FieldSpec]:
    return {graphql: Column(attribute) for graphql, attribute in names.items()}


def _newest_first(alias: Any) -> tuple[ColumnElement[Any], ...]:
    return alias.created_at.desc(), alias.id.desc()


ENTITIES: dict[str, Entity] = {
    "Business": Entity(
        models.Business,
        {
            "id": GlobalId(),
            **_columns(
                name="name",
                logoUrl="logo_url",
                supportEmail="support_email",
                websiteUrl="website_url",
                allowSubscriptionUpdates="allow_subscription_updates",
                taxId="tax_id",
            ),
            "address": AddressColumns(),
            "staticPortalUrl": StaticPortalUrl(),
            "customers": BusinessCustomers(),
        },
    ),
    "CustomerAccount": Entity(
        models.CustomerAccount,
        {
            "id": GlobalId(),
            "business": Related("Business", "business_id", required=True),
            **_columns(
                email="email",
                name="name",
                phone="phone",
                createdAt="created_at",
                taxId="tax_id",
                locale="locale",
            ),
            "creditBalances": CreditBalances(),
            "billingAddress": AddressColumns(),
            "subscriptions": ChildConnection("Subscription", models.Subscription, "account_id"),
        },
    ),
    "Product": Entity(
        models.Product,
        {
            "id": GlobalId(),
            "business": Related("Business", "business_id", required=True),
            **_columns(
                name="name",
                description="description",
                type="type",
                billingInterval="billing_interval",
            ),
            "price": MoneyColumn("price_minor"),
            "collection": Related("ProductCollection", "collection_id"),
        },
    ),
    "ProductCollection": Entity(
        models.ProductCollection,
        {
            "id": GlobalId(),
            "name": Column("name"),
            "products": Children(
                "Product",
                models.Product,
                "collection_id",
                order=lambda product: (product.position, product.id),
            ),
        },
    ),
    "Subscription": Entity(
        models.Subscription,
        {
            "id": GlobalId(),
            "business": Related("Business", "business_id", required=True),
            "account": Related("CustomerAccount", "account_id", required=True),
            "product": Related("Product", "product_id", required=True),
            "paymentMethod": Related("PaymentMethod", "payment_method_id"),
            **_columns(
                status="status",
                quantity="quantity",
                billingInterval="billing_interval",
                currentPeriodStart="current_period_start",
                currentPeriodEnd="current_period_end",
                cancelAtPeriodEnd="cancel_at_period_end",
                cancelledAt="cancelled_at",
                createdAt="created_at",
            ),
            "recurringPrice": Computed(
                ("unit_price_minor", "quantity"), subscription_facts.recurring_minor, money=True
            ),
            "nextBillingDate": Computed(
                ("status", "cancel_at_period_end", "ends_at", "current_period_end"),
                subscription_facts.next_billing_date,
            ),
            "outstandingAmount": Computed(
                ("status", "dues_minor"), subscription_facts.outstanding_minor, money=True
            ),
            "planChangeOptions": PlanChangeOptions(),
            "invoices": ChildConnection("Invoice", models.Invoice, "subscription_id"),
        },
    ),
    "Purchase": Entity(
        models.Purchase,
        {
            "id": GlobalId(),
            "business": Related("Business", "business_id", required=True),
            "product": Related("Product", "product_id", required=True),
            "invoice": Related("Invoice", "invoice_id"),
            "subscription": Related("Subscription", "subscription_id"),
            **_columns(quantity="quantity", status="status", purchasedAt="purchased_at"),
            "total": MoneyColumn("total_minor"),
            "licenseKeys": Children(
                "LicenseKey", models.LicenseKey, "purchase_id", order=_newest_first
            ),
        },
    ),
    "LicenseKey": Entity(
        models.LicenseKey,
        {
            "id": GlobalId(),
            "business": Related("Business", "business_id", required=True),
            "product": Related("Product", "product_id", required=True),
            "purchase": Related("Purchase", "purchase_id"),
            **_columns(
                key="key",
                status="status",
                activationsLimit="activations_limit",
                activationsUsed="activations_used",
                expiresAt="expires_at",
                createdAt="created_at",
            ),
        },
    ),
    "Invoice": Entity(
        models.Invoice,
        {
            "id": GlobalId(),
            "business": Related("Business", "business_id", required=True),
            "subscription": Related("Subscription", "subscription_id"),
            **_columns(number="number", status="status", issuedAt="issued_at"),
            "subtotal": MoneyColumn("subtotal_minor"),
            "tax": MoneyColumn("tax_minor"),
            "total": MoneyColumn("total_minor"),
            "lines": Children(
                "InvoiceLine",
                models.InvoiceLine,
                "invoice_id",
                order=lambda line: (line.position,),
                scoped=False,
                parent_currency=True,
            ),
            "payment": Children(
                "Payment", models.Payment, "invoice_id", order=settling_first, first=True
            ),
            "pdfUrl": InvoicePdfUrl(),
        },
    ),
    "InvoiceLine": Entity(
        models.InvoiceLine,
        {
            **_columns(
                description="description",
                quantity="quantity",
                proration="proration",
                periodStart="period_start",
                periodEnd="period_end",
            ),
            "unitAmount": MoneyColumn("unit_amount_minor", currency=None),
            "amount": MoneyColumn("amount_minor", currency=None),
        },
    ),
    "Payment": Entity(
        models.Payment,
        {
            "id": GlobalId(),
            "business": Related("Business", "business_id", required=True),
            "paymentMethod": Related("PaymentMethod", "payment_method_id"),
            "invoice": Related("Invoice", "invoice_id"),
            "amount": MoneyColumn("amount_minor"),
            **_columns(
                status="status",
                createdAt="created_at",
                failureCode="failure_code",
                failureMessage="failure_message",
            ),
        },
    ),
    "PaymentMethod": Entity(
        models.PaymentMethod,
        {
            "id": GlobalId(),
            "business": Related("Business", "business_id", required=True),
            **_columns(
                brand="brand",
                last4="last4",
                expMonth="exp_month",
                expYear="exp_year",
                createdAt="created_at",
            ),
        },
    ),
}
