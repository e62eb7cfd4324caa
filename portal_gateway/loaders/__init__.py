"""DataLoaders, built fresh for every request so nothing is cached across principals."""

from __future__ import annotations

from portal_gateway.auth.principal import Principal
from portal_gateway.loaders.by_id import ByIdLoader
from portal_gateway.loaders.by_parent import (
    CreditBalancesByAccountIdLoader,
    InvoicePageBySubscriptionIdLoader,
    LicenseKeysByPurchaseIdLoader,
    LinesByInvoiceIdLoader,
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


class Loaders:
    def __init__(self, reader: Reader, principal: Principal) -> None:
        self.reader = reader
        self.business = ByIdLoader(reader, principal, Business)
        self.account = ByIdLoader(reader, principal, CustomerAccount)
        self.product = ByIdLoader(reader, principal, Product)
        self.collection = ByIdLoader(reader, principal, ProductCollection)
        self.subscription = ByIdLoader(reader, principal, Subscription)
        self.purchase = ByIdLoader(reader, principal, Purchase)
        self.invoice = ByIdLoader(reader, principal, Invoice)
        self.payment = ByIdLoader(reader, principal, Payment)
        self.payment_method = ByIdLoader(reader, principal, PaymentMethod)
        self.license_key = ByIdLoader(reader, principal, LicenseKey)
        self.lines_by_invoice = LinesByInvoiceIdLoader(reader, principal)
        self.products_by_collection = ProductsByCollectionIdLoader(reader, principal)
        self.license_keys_by_purchase = LicenseKeysByPurchaseIdLoader(reader, principal)
        self.credit_balances_by_account = CreditBalancesByAccountIdLoader(reader, principal)
        self.payment_by_invoice = PaymentByInvoiceIdLoader(reader, principal)
        self.invoice_page_by_subscription = InvoicePageBySubscriptionIdLoader(reader, principal)

    async def clear(self) -> None:
        """After a commit: drop every cached answer so payloads show the new state."""
        for loader in vars(self).values():
            if hasattr(loader, "clear_all"):
                loader.clear_all()
        await self.reader.refresh()
