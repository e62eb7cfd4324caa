"""DataLoaders, built fresh for every request so nothing is cached across principals."""

from __future__ import annotations

from typing import Any

from portal_gateway.auth.principal import Principal
from portal_gateway.loaders.by_id import ByIdLoader
from portal_gateway.loaders.by_parent import (
    CreditBalancesByAccountIdLoader,
    LicenseKeysByPurchaseIdLoader,
    LinesByInvoiceIdLoader,
    PageByParentLoader,
    PaymentByInvoiceIdLoader,
    ProductsByCollectionIdLoader,
)
from portal_gateway.loaders.reader import Reader
from portal_gateway.models import (
    Business,
    CustomerAccount,
    Invoice,
    LicenseKey,
    Payment,
    PaymentMethod,
    Product,
    ProductCollection,
    Purchase,
    Subscription,
)
from portal_gateway.models.base import Base

# The one list of node types: the type name in a global id, and the table behind it. `node`
# loads by it, and the schema wraps each of these tables' rows in the type of that name.
NODE_MODELS: dict[str, type[Base]] = {
    "Business": Business,
    "CustomerAccount": CustomerAccount,
    "Product": Product,
    "ProductCollection": ProductCollection,
    "Subscription": Subscription,
    "Purchase": Purchase,
    "Invoice": Invoice,
    "Payment": Payment,
    "PaymentMethod": PaymentMethod,
    "LicenseKey": LicenseKey,
}


class Loaders:
    def __init__(self, reader: Reader, principal: Principal) -> None:
        self.reader = reader
        self.by_type: dict[str, ByIdLoader[Any]] = {
            name: ByIdLoader(reader, principal, model) for name, model in NODE_MODELS.items()
        }
        by_type = self.by_type
        self.business: ByIdLoader[Business] = by_type["Business"]
        self.account: ByIdLoader[CustomerAccount] = by_type["CustomerAccount"]
        self.product: ByIdLoader[Product] = by_type["Product"]
        self.collection: ByIdLoader[ProductCollection] = by_type["ProductCollection"]
        self.subscription: ByIdLoader[Subscription] = by_type["Subscription"]
        self.purchase: ByIdLoader[Purchase] = by_type["Purchase"]
        self.invoice: ByIdLoader[Invoice] = by_type["Invoice"]
        self.payment: ByIdLoader[Payment] = by_type["Payment"]
        self.payment_method: ByIdLoader[PaymentMethod] = by_type["PaymentMethod"]
        self.license_key: ByIdLoader[LicenseKey] = by_type["LicenseKey"]
        self.lines_by_invoice = LinesByInvoiceIdLoader(reader, principal)
        self.products_by_collection = ProductsByCollectionIdLoader(reader, principal)
        self.license_keys_by_purchase = LicenseKeysByPurchaseIdLoader(reader, principal)
        self.credit_balances_by_account = CreditBalancesByAccountIdLoader(reader, principal)
        self.payment_by_invoice = PaymentByInvoiceIdLoader(reader, principal)
        self.invoice_page_by_subscription = PageByParentLoader(
            reader, principal, Invoice, "subscription_id"
        )
        self.subscription_page_by_account = PageByParentLoader(
            reader, principal, Subscription, "account_id"
        )

    async def clear(self) -> None:
        """After a commit: drop every cached answer so payloads show the new state."""
        for loader in vars(self).values():  # by_type's loaders are attributes too
            if hasattr(loader, "clear_all"):
                loader.clear_all()
        await self.reader.refresh()
