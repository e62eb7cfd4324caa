"""A small factory for the rows a test needs.

Businesses and keys are made through the same service as the CLI, invoices through
the service that issues them, cards like the test processor's; the rest as rows.
Talking to the app is tests/api.py's; reading the mail, tests/mail.py's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal_gateway.core import clock
from portal_gateway.core.emails import canonical_email
from portal_gateway.core.ids import encode_global_id
from portal_gateway.db import Database
from portal_gateway.models import (
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
from portal_gateway.models.enums import (
    ApiKeyMode,
    BillingInterval,
    LicenseKeyStatus,
    PaymentStatus,
    ProductType,
    PurchaseStatus,
    SubscriptionStatus,
)
from portal_gateway.payments.test_processor import TEST_CARDS
from portal_gateway.services.businesses import create_business
from portal_gateway.services.invoices import LineDraft, issue_invoice


def gid(type_name: str, local_id: str) -> str:
    return encode_global_id(type_name, local_id)


def unique_email(label: str = "customer") -> str:
    return f"{label}.{uuid.uuid4().hex[:8]}@example.com"


@dataclass
class Merchant:
    id: str
    name: str
    api_key: str

    @property
    def gid(self) -> str:
        return gid("Business", self.id)


class World:
    """Rows, committed, with distinct creation times."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._tick = 0

    def _stamp(self, at: datetime | None) -> datetime:
        """Distinct creation times, so that order is well defined."""
        self._tick += 1
        return at or clock.now() - timedelta(days=400) + timedelta(seconds=self._tick)

    async def business(
        self,
        name: str | None = None,
        *,
        tax_rate_bps: int = 0,
        allow_updates: bool = True,
        mode: ApiKeyMode = ApiKeyMode.TEST,
    ) -> Merchant:
        async with self.db.transaction() as session:
            row, key = await create_business(
                session,
                name or f"Biz {uuid.uuid4().hex[:6]}",
                mode,
                tax_rate_bps=tax_rate_bps,
            )
            row.allow_subscription_updates = allow_updates
        return Merchant(row.id, row.name, key)

    async def add(self, *rows: Any) -> None:
        async with self.db.transaction() as session:
            for row in rows:
                session.add(row)
                await session.flush()

    async def account(
        self, business: Merchant, email: str, name: str = "Pat Customer", **fields: Any
    ) -> CustomerAccount:
        row = CustomerAccount(
            business_id=business.id,
            email=email,
            email_normalized=canonical_email(email),
            name=name,
            created_at=self._stamp(fields.pop("created_at", None)),
            **fields,
        )
        await self.add(row)
        return row

    async def collection(self, business: Merchant, name: str = "Plans") -> ProductCollection:
        row = ProductCollection(business_id=business.id, name=name)
        await self.add(row)
        return row

    async def product(
        self,
        business: Merchant,
        price: int,
        currency: str = "USD",
        *,
        name: str = "Plan",
        collection: ProductCollection | None = None,
        type: ProductType = ProductType.SUBSCRIPTION,
        interval: BillingInterval | None = BillingInterval.MONTH,
        taxable: bool = False,
    ) -> Product:
        row = Product(
            business_id=business.id,
            collection_id=collection.id if collection else None,
            name=name,
            type=type,
            price_minor=price,
            currency=currency,
            billing_interval=interval if type is not ProductType.ONE_TIME else None,
            taxable=taxable,
        )
        await self.add(row)
        return row

    async def card(self, account: CustomerAccount, token: str = "tok_visa") -> PaymentMethod:
        """A saved card as the test processor makes it from `token`: it charges like that
        token (tok_declined declines, tok_processing_error fails, …)."""
        details = TEST_CARDS[token]
        row = PaymentMethod(
            business_id=account.business_id,
            account_id=account.id,
            processor_ref=f"pm_{token}_{uuid.uuid4().hex[:12]}",
            brand=details.brand,
            last4=details.last4,
            exp_month=12,
            exp_year=2030,
            created_at=self._stamp(None),
        )
        await self.add(row)
        return row

    def subscription_row(
        self,
        account: CustomerAccount,
        product: Product,
        status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
        *,
        quantity: int = 1,
        dues: int = 0,
        payment_method: PaymentMethod | None = None,
    ) -> Subscription:
        start = clock.now() - timedelta(days=10)
        return Subscription(
            business_id=account.business_id,
            account_id=account.id,
            product_id=product.id,
            status=status,
            quantity=quantity,
            unit_price_minor=product.price_minor,
            currency=product.currency,
            billing_interval=product.billing_interval or BillingInterval.MONTH,
            current_period_start=start,
            current_period_end=start + timedelta(days=30),
            payment_method_id=payment_method.id if payment_method else None,
            dues_minor=dues,
            created_at=self._stamp(None),
        )

    async def subscription(
        self,
        account: CustomerAccount,
        product: Product,
        status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
        **fields: Any,
    ) -> Subscription:
        row = self.subscription_row(account, product, status, **fields)
        await self.add(row)
        return row

    async def invoices(
        self,
        account: CustomerAccount,
        count: int,
        *,
        amount: int = 1000,
        currency: str = "USD",
        subscription: Subscription | None = None,
        payment_method: PaymentMethod | None = None,
    ) -> list[Invoice]:
        """`count` paid invoices, each with one line and one payment, in one transaction."""
        created: list[Invoice] = []
        async with self.db.transaction() as session:
            for _ in range(count):
                issued = self._stamp(None)
                invoice = await issue_invoice(
                    session,
                    account,
                    [LineDraft("Service", 1, amount, amount)],
                    currency=currency,
                    issued_at=issued,
                    subscription_id=subscription.id if subscription else None,
                )
                session.add(
                    Payment(
                        business_id=account.business_id,
                        account_id=account.id,
                        subscription_id=subscription.id if subscription else None,
                        invoice_id=invoice.id,
                        payment_method_id=payment_method.id if payment_method else None,
                        amount_minor=amount,
                        currency=currency,
                        status=PaymentStatus.SUCCEEDED,
                        created_at=issued,
                    )
                )
                created.append(invoice)
        return created

    async def purchase(
        self, account: CustomerAccount, product: Product, *, with_license: bool = True
    ) -> Purchase:
        purchase = Purchase(
            business_id=account.business_id,
            account_id=account.id,
            product_id=product.id,
            quantity=1,
            total_minor=product.price_minor,
            currency=product.currency,
            status=PurchaseStatus.PAID,
            purchased_at=self._stamp(None),
            created_at=self._stamp(None),
        )
        await self.add(purchase)
        if with_license:
            await self.add(
                LicenseKey(
                    business_id=account.business_id,
                    account_id=account.id,
                    product_id=product.id,
                    purchase_id=purchase.id,
                    key=f"KEY-{uuid.uuid4().hex[:16].upper()}",
                    status=LicenseKeyStatus.ACTIVE,
                    activations_limit=3,
                    created_at=self._stamp(None),
                )
            )
        return purchase
