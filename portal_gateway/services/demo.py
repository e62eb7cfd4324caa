"""The demo world of `portal-gateway demo seed`: deterministic, and safe to run twice.

Four businesses in four currencies (two-, zero- and three-decimal), three plans
in a collection each, one-time products with license keys, and one demo email
that is a customer of three of them with subscriptions in every interesting
state and a year of invoices and payments; other customers around it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from io import BytesIO

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.core import clock
from portal_gateway.core.cards import CardBrand
from portal_gateway.core.emails import canonical_email
from portal_gateway.core.ids import seeded_id
from portal_gateway.models import (
    Business,
    BusinessLogo,
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
    InvoiceStatus,
    LicenseKeyStatus,
    PaymentStatus,
    ProductType,
    PurchaseStatus,
    SubscriptionStatus,
)
from portal_gateway.payments.test_processor import TEST_CARDS
from portal_gateway.services import renewals
from portal_gateway.services.businesses import create_business, issue_api_key
from portal_gateway.services.invoices import LineDraft, issue_invoice

DEMO_EMAIL = "dana.demo@example.com"
MONTH = timedelta(days=30)
# The card of the demo's ON_HOLD subscription, and its decline.
DECLINING_TOKEN = "tok_insufficient_funds"  # noqa: S105 -- a test card, no secret


@dataclass(frozen=True)
class BusinessSpec:
    slug: str
    name: str
    currency: str
    tax_rate_bps: int
    prefix: str
    plans: tuple[tuple[str, int], ...]
    one_time: tuple[str, int] | None
    demo_states: tuple[str, ...]  # the demo customer's subscriptions, by plan index and state
    # Printed on its invoices: line1, city, postal code, country; its tax id; its logo colour.
    address: tuple[str, str, str | None, str]
    tax_id: str
    color: tuple[int, int, int]
    locale: str = "en"


BUSINESSES = (
    BusinessSpec(
        "acme", "Acme Cloud", "USD", 0, "ACME",
        (("Starter", 900), ("Pro", 2900), ("Business", 9900)),
        ("Acme CLI Pro (lifetime licence)", 4900),
        ("1:ACTIVE", "0:CANCELLED"),
        ("500 Market Street", "San Francisco", "94105", "US"), "12-3456789", (37, 99, 235),
    ),
    BusinessSpec(
        "berliner", "Berliner Design Studio", "EUR", 1900, "BDS",
        (("Basic", 500), ("Plus", 1200), ("Team", 3000)),
        None,
        ("1:ON_HOLD",),
        ("Torstraße 120", "Berlin", "10119", "DE"), "DE312345678", (220, 38, 38),
        locale="de",
    ),
    BusinessSpec(
        "kyoto", "Kyoto Games", "JPY", 1000, "KYOTO",
        (("Casual", 500), ("Gamer", 1200), ("Pro Gamer", 3000)),
        ("Lantern Quest (PC licence)", 4800),
        ("2:CANCEL_AT_PERIOD_END",),
        ("Shijo-dori 55", "Kyoto", "600-8001", "JP"), "T1234567890123", (22, 163, 74),
    ),
    BusinessSpec(
        "gulf", "Gulf Analytics", "KWD", 0, "GULF",
        (("Analyst", 1500), ("Team", 4250), ("Enterprise", 9750)),
        None,
        (),
        ("Al Hamra Tower, Floor 30", "Kuwait City", "13001", "KW"), "KW300012345", (124, 58, 237),
    ),
)  # fmt: skip

OTHER_CUSTOMERS = ("sam.other", "lee.smith", "ana.garcia")
CARDS = ((CardBrand.VISA, "4242"), (CardBrand.MASTERCARD, "4444"), (CardBrand.AMEX, "0005"))


@dataclass
class SeededBusiness:
    id: str
    name: str
    api_key: str


@dataclass
class SeedResult:
    demo_email: str
    businesses: list[SeededBusiness] = field(default_factory=list)
    created: bool = False


async def seed(session: AsyncSession, mode: ApiKeyMode = ApiKeyMode.TEST) -> SeedResult:
    """Create the demo world unless it exists; in both cases mint a fresh API key per business."""
    result = SeedResult(DEMO_EMAIL)
    now = clock.now().replace(microsecond=0)
    for spec in BUSINESSES:
        business_id = seeded_id("business", spec.slug)
        business = await session.get(Business, business_id)
        if business is None:
            business, key = await create_business(
                session,
                spec.name,
                mode,
                business_id=business_id,
                support_email=f"support@{spec.slug}.example",
                website_url=f"https://{spec.slug}.example",
                tax_rate_bps=spec.tax_rate_bps,
                invoice_prefix=spec.prefix,
            )
            await _invoice_details(session, business, spec)
            await _populate(session, business, spec, now)
            result.created = True
        else:
            key = await issue_api_key(session, business.id, mode)
        result.businesses.append(SeededBusiness(business.id, business.name, key))
    return result


async def _invoice_details(session: AsyncSession, business: Business, spec: BusinessSpec) -> None:
    """What the business's invoices print: its address, tax id and a logo (drawn here: the
    demo fetches nothing)."""
    line1, city, postal_code, country = spec.address
    business.address_line1, business.address_city = line1, city
    business.address_postal_code, business.address_country = postal_code, country
    business.tax_id = spec.tax_id
    image = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 239, 79), radius=18, fill=(*spec.color, 255))
    draw.ellipse((20, 16, 68, 64), fill=(255, 255, 255, 255))
    draw.rectangle((88, 30, 220, 50), fill=(255, 255, 255, 200))
    png = BytesIO()
    image.save(png, format="PNG")
    logo = BusinessLogo(
        id=seeded_id(spec.slug, "logo"),
        business_id=business.id,
        source_url=f"https://{spec.slug}.example/logo.png",
        sha256=hashlib.sha256(png.getvalue()).hexdigest(),
        png=png.getvalue(),
    )
    session.add(logo)
    await session.flush()
    # logoUrl stays unset: hosted pages would point browsers at a host that does not exist.
    business.logo_id = logo.id


async def demo_account(session: AsyncSession, business_id: str) -> CustomerAccount | None:
    return await session.scalar(
        select(CustomerAccount).where(
            CustomerAccount.business_id == business_id,
            CustomerAccount.email_normalized == canonical_email(DEMO_EMAIL),
        )
    )


class _World:
    """Writes one business's rows with ids derived from their place in the demo."""

    def __init__(self, session: AsyncSession, business: Business, spec: BusinessSpec) -> None:
        self.session = session
        self.business = business
        self.spec = spec

    def id(self, *parts: object) -> str:
        return seeded_id(self.spec.slug, *(str(part) for part in parts))

    async def invoice(
        self,
        account: CustomerAccount,
        product: Product,
        subscription: Subscription | None,
        issued_at: datetime,
        period: tuple[datetime, datetime] | None,
        method: PaymentMethod,
        *,
        quantity: int = 1,
    ) -> Invoice:
        amount = product.price_minor * quantity
        line = LineDraft.taxed(
            product.name,
            quantity,
            product.price_minor,
            amount,
            tax_rate_bps=self.business.tax_rate_bps if product.taxable else 0,
            period_start=period[0] if period else None,
            period_end=period[1] if period else None,
        )
        invoice = await issue_invoice(
            self.session,
            account,
            [line],
            currency=product.currency,
            issued_at=issued_at,
            subscription_id=subscription.id if subscription else None,
            status=InvoiceStatus.PAID,
        )
        payment = Payment(
            business_id=self.business.id,
            account_id=account.id,
            subscription_id=subscription.id if subscription else None,
            invoice_id=invoice.id,
            payment_method_id=method.id,
            amount_minor=invoice.total_minor,
            currency=product.currency,
            status=PaymentStatus.SUCCEEDED,
            purpose="renewal" if subscription else "purchase",
            processor_ref=f"ch_demo_{invoice.sequence}",
            created_at=issued_at,
        )
        self.session.add(payment)
        await self.session.flush()
        return invoice


async def _populate(
    session: AsyncSession, business: Business, spec: BusinessSpec, now: datetime
) -> None:
    world = _World(session, business, spec)
    collection = ProductCollection(
        id=world.id("collection"), business_id=business.id, name=f"{spec.name} plans",
        created_at=now - 400 * timedelta(days=1),
    )  # fmt: skip
    session.add(collection)
    await session.flush()
    plans = [
        Product(
            id=world.id("plan", index),
            business_id=business.id,
            collection_id=collection.id,
            name=name,
            description=f"{name} plan, billed monthly.",
            type=ProductType.SUBSCRIPTION,
            price_minor=price,
            currency=spec.currency,
            billing_interval=BillingInterval.MONTH,
            taxable=spec.tax_rate_bps > 0,
            position=index,
            created_at=now - 400 * timedelta(days=1),
        )
        for index, (name, price) in enumerate(spec.plans)
    ]
    session.add_all(plans)
    one_time = None
    if spec.one_time:
        one_time = Product(
            id=world.id("one-time"),
            business_id=business.id,
            name=spec.one_time[0],
            description="A one-time purchase with a license key.",
            type=ProductType.ONE_TIME,
            price_minor=spec.one_time[1],
            currency=spec.currency,
            taxable=spec.tax_rate_bps > 0,
            license_activations_limit=3,
            created_at=now - 400 * timedelta(days=1),
        )
        session.add(one_time)
    await session.flush()

    people = [(DEMO_EMAIL, "Dana Demo", spec.demo_states)] if spec.demo_states else []
    people += [
        (f"{local}@example.com", local.replace(".", " ").title(), ("0:ACTIVE",))
        for local in OTHER_CUSTOMERS
    ]
    for person_index, (email, name, states) in enumerate(people):
        account = CustomerAccount(
            id=world.id("account", email),
            business_id=business.id,
            # The demo email is stored as typed at one business, to show normalization.
            email="Dana.Demo@example.com"
            if spec.slug == "kyoto" and email == DEMO_EMAIL
            else email,
            email_normalized=canonical_email(email),
            name=name,
            phone="+14155550100" if email == DEMO_EMAIL else None,
            address_line1="1 Demo Street",
            address_city="Springfield",
            address_postal_code="12345",
            address_country="US",
            locale=spec.locale,
            created_at=now - timedelta(days=380 - person_index),
        )
        session.add(account)
        await session.flush()
        brand, last4 = CARDS[person_index % len(CARDS)]
        reference = f"pm_demo_{spec.slug}_{person_index}"
        if any(state.endswith(":ON_HOLD") for state in states):
            # The card whose renewal was declined declines again: the test processor charges
            # a reference named after a token like that token.
            brand, last4 = CardBrand.VISA, TEST_CARDS[DECLINING_TOKEN].last4
            reference = f"pm_{DECLINING_TOKEN}_demo_{spec.slug}_{person_index}"
        method = PaymentMethod(
            id=world.id("card", email),
            business_id=business.id,
            account_id=account.id,
            processor_ref=reference,
            brand=brand,
            last4=last4,
            exp_month=12,
            exp_year=now.year + 3,
            created_at=account.created_at,
        )
        session.add(method)
        await session.flush()
        for sub_index, state in enumerate(states):
            plan_index, status = state.split(":")
            await _subscription(
                world, account, plans[int(plan_index)], method, status, now, sub_index
            )
        if one_time is not None and person_index < 2:
            await _one_time_purchase(
                world, account, one_time, method, now - 100 * timedelta(days=1)
            )


async def _subscription(
    world: _World,
    account: CustomerAccount,
    plan: Product,
    method: PaymentMethod,
    state: str,
    now: datetime,
    index: int,
) -> None:
    months = 12 if index == 0 else 5
    started = now - months * MONTH - timedelta(days=3)
    status = SubscriptionStatus.ACTIVE
    period_start = now - timedelta(days=3)
    cancelled_at = None
    if state == "CANCELLED":
        status = SubscriptionStatus.CANCELLED
        months -= 2
        cancelled_at = started + months * MONTH + timedelta(days=5)
        period_start = started + (months - 1) * MONTH
    elif state == "ON_HOLD":
        # Its last period ended three days ago and the renewal was declined.
        period_start = now - timedelta(days=3) - MONTH
    subscription = Subscription(
        id=world.id("subscription", account.id, index),
        business_id=world.business.id,
        account_id=account.id,
        product_id=plan.id,
        status=status,
        quantity=1,
        unit_price_minor=plan.price_minor,
        currency=plan.currency,
        billing_interval=BillingInterval.MONTH,
        current_period_start=period_start,
        current_period_end=period_start + MONTH,
        cancel_at_period_end=state == "CANCEL_AT_PERIOD_END",
        cancelled_at=cancelled_at,
        cancellation_reason="Switching tools" if cancelled_at else None,
        payment_method_id=method.id,
        dues_minor=0,
        created_at=started,
    )
    world.session.add(subscription)
    await world.session.flush()
    first_invoice = None
    paid_months = months + (0 if state in ("CANCELLED", "ON_HOLD") else 1)
    for month in range(paid_months):
        start = started + month * MONTH
        invoice = await world.invoice(
            account, plan, subscription, start, (start, start + MONTH), method
        )
        first_invoice = first_invoice or invoice
    if state == "ON_HOLD":
        await _declined_renewal(world, subscription, method)
    assert first_invoice is not None
    world.session.add(
        Purchase(
            id=world.id("purchase", subscription.id),
            business_id=world.business.id,
            account_id=account.id,
            product_id=plan.id,
            subscription_id=subscription.id,
            invoice_id=first_invoice.id,
            quantity=1,
            total_minor=first_invoice.total_minor,
            currency=plan.currency,
            status=PurchaseStatus.PAID,
            purchased_at=started,
            created_at=started,
        )
    )
    await world.session.flush()


async def _declined_renewal(
    world: _World, subscription: Subscription, method: PaymentMethod
) -> None:
    """What a declined renewal leaves, made by the renewal's own code: the period's claim, a
    FAILED payment and no invoice, the subscription ON_HOLD with the period's amount as its
    dues, and the email whose link opens the card update."""
    claim = await renewals.claim_next_period(world.session, subscription)
    line = await renewals.period_line(world.session, subscription, claim)
    payment = Payment(
        id=world.id("declined-renewal", subscription.id),
        business_id=subscription.business_id,
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        payment_method_id=method.id,
        amount_minor=line.amount_minor + line.tax_minor,
        currency=subscription.currency,
        status=PaymentStatus.FAILED,
        purpose=renewals.PURPOSE,
        failure_code=TEST_CARDS[DECLINING_TOKEN].decline_code,
        failure_message="The card has insufficient funds.",
        created_at=claim.period_start,
    )
    world.session.add(payment)
    await world.session.flush()
    await renewals.put_on_hold(
        world.session, subscription, claim, [line], payment.failure_code, payment=payment
    )


async def _one_time_purchase(
    world: _World, account: CustomerAccount, product: Product, method: PaymentMethod, when: datetime
) -> None:
    invoice = await world.invoice(account, product, None, when, None, method)
    purchase = Purchase(
        id=world.id("purchase", account.id, product.id),
        business_id=world.business.id,
        account_id=account.id,
        product_id=product.id,
        invoice_id=invoice.id,
        quantity=1,
        total_minor=invoice.total_minor,
        currency=product.currency,
        status=PurchaseStatus.PAID,
        purchased_at=when,
        created_at=when,
    )
    world.session.add(purchase)
    await world.session.flush()
    world.session.add(
        LicenseKey(
            id=world.id("license", purchase.id),
            business_id=world.business.id,
            account_id=account.id,
            product_id=product.id,
            purchase_id=purchase.id,
            key=f"{world.spec.prefix}-{world.id('key', purchase.id)[:16].upper()}",
            status=LicenseKeyStatus.ACTIVE,
            activations_limit=product.license_activations_limit,
            activations_used=1,
            created_at=when,
        )
    )
    await world.session.flush()
