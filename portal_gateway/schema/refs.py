"""Lazy references to the node types, for fields of one area's types that return another's:
no area imports another's types module, so the cycles between them (a business's customers,
an invoice's payment and the payment's invoice) cost nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

if TYPE_CHECKING:
    from portal_gateway.schema.accounts.types import CustomerAccount
    from portal_gateway.schema.businesses.types import Business
    from portal_gateway.schema.catalogue.types import Product, ProductCollection
    from portal_gateway.schema.invoices.types import Invoice
    from portal_gateway.schema.payments.types import Payment, PaymentMethod
    from portal_gateway.schema.purchases.types import LicenseKey, Purchase
    from portal_gateway.schema.subscriptions.types import Subscription

_ROOT = "portal_gateway.schema"

BusinessRef = Annotated["Business", strawberry.lazy(f"{_ROOT}.businesses.types")]
CustomerAccountRef = Annotated["CustomerAccount", strawberry.lazy(f"{_ROOT}.accounts.types")]
ProductRef = Annotated["Product", strawberry.lazy(f"{_ROOT}.catalogue.types")]
ProductCollectionRef = Annotated["ProductCollection", strawberry.lazy(f"{_ROOT}.catalogue.types")]
SubscriptionRef = Annotated["Subscription", strawberry.lazy(f"{_ROOT}.subscriptions.types")]
PurchaseRef = Annotated["Purchase", strawberry.lazy(f"{_ROOT}.purchases.types")]
LicenseKeyRef = Annotated["LicenseKey", strawberry.lazy(f"{_ROOT}.purchases.types")]
InvoiceRef = Annotated["Invoice", strawberry.lazy(f"{_ROOT}.invoices.types")]
PaymentRef = Annotated["Payment", strawberry.lazy(f"{_ROOT}.payments.types")]
PaymentMethodRef = Annotated["PaymentMethod", strawberry.lazy(f"{_ROOT}.payments.types")]
