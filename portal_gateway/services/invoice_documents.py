"""An invoice as the PDF a customer files: what was true when it was issued, drawn off the
event loop.

The words, the seller and the buyer come from the snapshot taken at issue (the invoice's
own columns, its lines and the logo it was issued with), never from the business or the
account as they are now; only the payment's outcome is read as it stands.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from threading import Lock

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.documents.invoice_pdf import render_invoice_pdf
from portal_gateway.documents.model import (
    Buyer,
    DocumentAddress,
    DocumentLine,
    InvoiceDocument,
    PaymentSummary,
    Seller,
)
from portal_gateway.models import BusinessLogo, Invoice, InvoiceLine, Payment, PaymentMethod
from portal_gateway.models.enums import InvoiceStatus, PaymentStatus

# Rendered documents by content: the same document is drawn once per process.
_CACHE_SIZE = 64
_rendered: OrderedDict[InvoiceDocument, bytes] = OrderedDict()
_rendered_lock = Lock()


async def invoice_document(session: AsyncSession, invoice_id: str) -> InvoiceDocument | None:
    """What the invoice's PDF prints, or None when there is no such invoice."""
    invoice = await session.get(Invoice, invoice_id)
    if invoice is None:
        return None
    lines = (
        await session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        )
    ).all()
    payments = (
        await session.scalars(
            select(Payment)
            .where(Payment.invoice_id == invoice.id)
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        )
    ).all()
    logo = (
        await session.get(BusinessLogo, invoice.seller_logo_id) if invoice.seller_logo_id else None
    )
    shown = next((p for p in payments if p.status is PaymentStatus.SUCCEEDED), None) or next(
        iter(payments), None
    )
    card = (
        await session.get(PaymentMethod, shown.payment_method_id)
        if shown is not None and shown.payment_method_id
        else None
    )
    paid = sum(p.amount_minor for p in payments if p.status is PaymentStatus.SUCCEEDED)
    owed = invoice.total_minor - invoice.credit_applied_minor - paid
    return InvoiceDocument(
        locale=invoice.locale,
        number=invoice.number,
        status=invoice.status.value,
        issued_at=invoice.issued_at,
        currency=invoice.currency,
        period_start=_period(lines, start=True) if invoice.subscription_id else None,
        period_end=_period(lines, start=False) if invoice.subscription_id else None,
        seller=Seller(
            name=invoice.seller_name,
            address=_address(invoice, "seller_address_"),
            tax_id=invoice.seller_tax_id,
            support_email=invoice.seller_support_email,
            website_url=invoice.seller_website_url,
            logo=logo.png if logo is not None else None,
        ),
        buyer=Buyer(
            name=invoice.billing_name,
            email=invoice.billing_email,
            address=_address(invoice, "billing_address_"),
            tax_id=invoice.billing_tax_id,
        ),
        lines=tuple(
            DocumentLine(
                description=line.description,
                quantity=line.quantity,
                unit_amount_minor=line.unit_amount_minor,
                amount_minor=line.amount_minor,
                tax_rate_bps=line.tax_rate_bps,
                tax_minor=line.tax_minor,
                proration=line.proration,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in lines
        ),
        subtotal_minor=invoice.subtotal_minor,
        tax_minor=invoice.tax_minor,
        total_minor=invoice.total_minor,
        credit_applied_minor=invoice.credit_applied_minor,
        amount_paid_minor=paid,
        amount_due_minor=max(owed, 0) if invoice.status is InvoiceStatus.OPEN else 0,
        payment=PaymentSummary(
            status=shown.status.value,
            card_brand=card.brand.value if card is not None else None,
            card_last4=card.last4 if card is not None else None,
        )
        if shown is not None
        else None,
    )


async def invoice_pdf(document: InvoiceDocument, fonts_dir: Path) -> bytes:
    """The document drawn as PDF in a worker thread, so that one document never stalls the
    other requests; dated at issue, so the same invoice gives the same bytes every time."""
    with _rendered_lock:
        if (cached := _rendered.get(document)) is not None:
            _rendered.move_to_end(document)
            return cached
    pdf = await asyncio.to_thread(
        render_invoice_pdf, document, fonts_dir=fonts_dir, created_at=document.issued_at
    )
    with _rendered_lock:
        _rendered[document] = pdf
        while len(_rendered) > _CACHE_SIZE:
            _rendered.popitem(last=False)
    return pdf


def _address(invoice: Invoice, prefix: str) -> DocumentAddress | None:
    line1, city, country = (
        getattr(invoice, prefix + part) for part in ("line1", "city", "country")
    )
    if not (line1 and city and country):
        return None
    return DocumentAddress(
        line1=line1,
        line2=getattr(invoice, prefix + "line2"),
        city=city,
        state=getattr(invoice, prefix + "state"),
        postal_code=getattr(invoice, prefix + "postal_code"),
        country=country,
    )


def _period(lines: Sequence[InvoiceLine], *, start: bool) -> datetime | None:
    """Where the period the invoice is for starts (or ends): over its lines' periods."""
    if start:
        return min((line.period_start for line in lines if line.period_start), default=None)
    return max((line.period_end for line in lines if line.period_end), default=None)
