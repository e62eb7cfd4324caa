"""A small factory for the world a test needs, and helpers that talk GraphQL to the app.

Businesses and keys are made through the same service as the CLI; portal
sessions through createPortalSession and signIn, as a merchant would.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from portal_gateway.app import create_app
from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.core.cards import CardBrand
from portal_gateway.core.ids import encode_global_id, normalize_email
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
from portal_gateway.notifications.backends import FileBackend
from portal_gateway.notifications.dispatcher import Dispatcher
from portal_gateway.services.businesses import create_business
from portal_gateway.services.invoices import LineDraft, issue_invoice
from portal_gateway.services.sign_in import composers as sign_in_composers


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
    def __init__(self, db: Database, client: httpx.AsyncClient) -> None:
        self.db = db
        self.client = client
        self._tick = 0

    def _stamp(self, at: datetime | None) -> datetime:
        """Distinct creation times, so that order is well defined."""
        self._tick += 1
        return at or clock.now() - timedelta(days=400) + timedelta(seconds=self._tick)

    async def business(
        self, name: str | None = None, *, tax_rate_bps: int = 0, allow_updates: bool = True
    ) -> Merchant:
        async with self.db.transaction() as session:
            row, key = await create_business(
                session,
                name or f"Biz {uuid.uuid4().hex[:6]}",
                ApiKeyMode.TEST,
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
            email_normalized=normalize_email(email),
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

    async def card(self, account: CustomerAccount, last4: str = "4242") -> PaymentMethod:
        row = PaymentMethod(
            business_id=account.business_id,
            account_id=account.id,
            processor_ref=f"pm_{uuid.uuid4().hex[:12]}",
            brand=CardBrand.VISA,
            last4=last4,
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

    # ---- talking to the API ----

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        expect_errors: bool = False,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        if not expect_errors:
            assert response.status_code == 200, body
            assert "errors" not in body, body["errors"]
        return body

    async def portal_link(
        self, business: Merchant, account: CustomerAccount, **input: Any
    ) -> dict[str, Any]:
        body = await self.gql(
            """mutation($input: CreatePortalSessionInput!) {
                 createPortalSession(input: $input) {
                   __typename
                   ... on PortalLink { url expiresAt }
                   ... on Error { code message }
                   ... on InvalidInputError { field }
                 }
               }""",
            {"input": {"customerId": gid("CustomerAccount", account.id), **input}},
            token=business.api_key,
        )
        result: dict[str, Any] = body["data"]["createPortalSession"]
        return result

    async def sign_in(self, token: str) -> dict[str, Any]:
        body = await self.gql(
            """mutation($token: String!) {
                 signIn(input: {token: $token}) {
                   __typename
                   ... on SignInSuccess {
                     accessToken expiresAt scope returnUrl
                     business { name }
                     viewer { email }
                     flow { type subscription { id } }
                   }
                   ... on Error { code message }
                 }
               }""",
            {"token": token},
        )
        result: dict[str, Any] = body["data"]["signIn"]
        return result

    async def session_for(self, business: Merchant, account: CustomerAccount, **input: Any) -> str:
        """An access token of a BUSINESS-scope portal session, made as a merchant would."""
        link = await self.portal_link(business, account, **input)
        assert link["__typename"] == "PortalLink", link
        signed_in = await self.sign_in(token_of(link["url"]))
        assert signed_in["__typename"] == "SignInSuccess", signed_in
        access_token: str = signed_in["accessToken"]
        return access_token


@asynccontextmanager
async def app_client(
    settings: Settings, db: Database, client_address: str = "203.0.113.7"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with other settings than the default test ones. The app's lifespan
    runs (its resources are opened and closed), without the background jobs: the tests
    deliver mail and reconcile themselves."""
    app = create_app(settings, db, background=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=(client_address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as client:
            yield client


def token_of(url: str) -> str:
    return httpx.URL(url).params["token"]


class Mailbox:
    """The outbox delivered into a folder, as the file backend does, and read back."""

    def __init__(self, db: Database, directory: Path, base_url: str) -> None:
        self.directory = directory
        self.dispatcher = Dispatcher(
            db,
            FileBackend(directory),
            sign_in_composers(base_url),
            sender="Billing Portal <no-reply@portal.test>",
        )

    async def deliver(self) -> int:
        return await self.dispatcher.drain()

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        found = []
        for path in sorted(self.directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            if to is None or normalize_email(str(message["To"])) == normalize_email(to):
                found.append(message)
        return found

    async def link_for(self, email: str) -> str:
        """Deliver, then the link in the one message to `email`."""
        await self.deliver()
        (message,) = self.messages(to=email)
        return link_in(message)


def link_in(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"https?://\S+/portal/link\?token=[\w-]+", body.get_content())
    assert match, body.get_content()
    return match.group(0)
