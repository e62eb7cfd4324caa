"""What an invoice document prints: plain values, nothing of the database or the schema.

Everything here was fixed when the invoice was issued (the snapshot on the invoice and its
lines); the renderer only draws it. Money is in integer minor units of `currency`; datetimes
are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DocumentAddress:
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str | None
    # ISO 3166-1 alpha-2; printed as the country's name in the document's language.
    country: str


@dataclass(frozen=True, slots=True)
class Seller:
    name: str
    address: DocumentAddress | None
    tax_id: str | None
    support_email: str | None
    website_url: str | None
    # The logo as stored when logoUrl was set (PNG or JPEG bytes), never fetched here.
    logo: bytes | None


@dataclass(frozen=True, slots=True)
class Buyer:
    name: str
    email: str
    address: DocumentAddress | None
    tax_id: str | None


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    quantity: int
    unit_amount_minor: int
    amount_minor: int
    # The rate this line was taxed at when issued, in basis points (1900 is 19 %).
    tax_rate_bps: int
    tax_minor: int
    proration: bool
    period_start: datetime | None
    period_end: datetime | None


@dataclass(frozen=True, slots=True)
class PaymentSummary:
    # PaymentStatus's value: SUCCEEDED, FAILED, PENDING or REFUNDED.
    status: str
    # CardBrand's value (VISA, MASTERCARD, ...) and the last four digits; None when unknown.
    card_brand: str | None
    card_last4: str | None


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    # One of i18n.available(): the words, dates and amounts of the document.
    locale: str
    number: str
    # InvoiceStatus's value: PAID, OPEN or VOID.
    status: str
    issued_at: datetime
    currency: str
    # The subscription period the invoice is for; None for a one-time purchase.
    period_start: datetime | None
    period_end: datetime | None
    seller: Seller
    buyer: Buyer
    lines: tuple[DocumentLine, ...]
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    credit_applied_minor: int
    amount_paid_minor: int
    amount_due_minor: int
    payment: PaymentSummary | None
