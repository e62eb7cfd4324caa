"""Invoices: lines, amounts, and the billing details they were issued with."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.core.money import round_half_even
from portal_gateway.models import Business, CustomerAccount, Invoice, InvoiceLine
from portal_gateway.models.enums import InvoiceStatus
from portal_gateway.services.invoice_numbers import allocate_invoice_number


@dataclass(frozen=True)
class LineDraft:
    description: str
    quantity: int
    unit_amount_minor: int
    amount_minor: int
    tax_minor: int = 0
    proration: bool = False
    period_start: datetime | None = None
    period_end: datetime | None = None
    # The rate tax_minor was computed at, in basis points, printed on the invoice.
    tax_rate_bps: int = 0

    @classmethod
    def taxed(
        cls,
        description: str,
        quantity: int,
        unit_amount_minor: int,
        amount_minor: int,
        *,
        tax_rate_bps: int,
        proration: bool = False,
        period_start: datetime | None = None,
        period_end: datetime | None = None,
    ) -> LineDraft:
        """A line taxed at `tax_rate_bps` (0 for an untaxed product), the rate kept with it."""
        return cls(
            description,
            quantity,
            unit_amount_minor,
            amount_minor,
            line_tax(amount_minor, tax_rate_bps),
            proration=proration,
            period_start=period_start,
            period_end=period_end,
            tax_rate_bps=tax_rate_bps,
        )

    def to_json(self) -> dict[str, Any]:
        """As kept on a PENDING payment or an ON_HOLD subscription, to invoice later."""
        return {
            **asdict(self),
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LineDraft:
        start, end = data.get("period_start"), data.get("period_end")
        return cls(
            **{
                **data,
                "period_start": datetime.fromisoformat(start) if start else None,
                "period_end": datetime.fromisoformat(end) if end else None,
            }
        )


async def issue_invoice(
    session: AsyncSession,
    account: CustomerAccount,
    lines: list[LineDraft],
    *,
    currency: str,
    issued_at: datetime,
    subscription_id: str | None = None,
    status: InvoiceStatus = InvoiceStatus.PAID,
    credit_applied_minor: int = 0,
) -> Invoice:
    """A numbered invoice with its lines; it keeps the account's billing details and the
    business's invoice details as they are now, so that later edits do not rewrite what was
    issued."""
    business = await session.get_one(Business, account.business_id)
    sequence, number = await allocate_invoice_number(session, account.business_id, issued_at)
    subtotal = sum(line.amount_minor for line in lines)
    tax = sum(line.tax_minor for line in lines)
    invoice = Invoice(
        business_id=account.business_id,
        account_id=account.id,
        subscription_id=subscription_id,
        number=number,
        sequence=sequence,
        status=status,
        issued_at=issued_at,
        currency=currency,
        subtotal_minor=subtotal,
        tax_minor=tax,
        total_minor=subtotal + tax,
        credit_applied_minor=credit_applied_minor,
        billing_name=account.name,
        billing_email=account.email,
        billing_address_line1=account.address_line1,
        billing_address_line2=account.address_line2,
        billing_address_city=account.address_city,
        billing_address_state=account.address_state,
        billing_address_postal_code=account.address_postal_code,
        billing_address_country=account.address_country,
        billing_tax_id=account.tax_id,
        locale=account.locale,
        seller_name=business.name,
        seller_address_line1=business.address_line1,
        seller_address_line2=business.address_line2,
        seller_address_city=business.address_city,
        seller_address_state=business.address_state,
        seller_address_postal_code=business.address_postal_code,
        seller_address_country=business.address_country,
        seller_tax_id=business.tax_id,
        seller_support_email=business.support_email,
        seller_website_url=business.website_url,
        seller_logo_id=business.logo_id,
        created_at=issued_at,
    )
    session.add(invoice)
    await session.flush()
    session.add_all(
        InvoiceLine(
            invoice_id=invoice.id,
            business_id=account.business_id,
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit_amount_minor=line.unit_amount_minor,
            amount_minor=line.amount_minor,
            tax_minor=line.tax_minor,
            tax_rate_bps=line.tax_rate_bps,
            proration=line.proration,
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for position, line in enumerate(lines)
    )
    await session.flush()
    return invoice


def line_tax(amount_minor: int, tax_rate_bps: int) -> int:
    """Tax of one line in minor units, rounded half-even (negative for credit lines)."""
    return round_half_even(Fraction(amount_minor * tax_rate_bps, 10000))
