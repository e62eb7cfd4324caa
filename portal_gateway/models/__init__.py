"""SQLAlchemy 2 ORM tables, one module per aggregate."""

from portal_gateway.models.audit import AuditEvent
from portal_gateway.models.base import Base
from portal_gateway.models.business import ApiKey, Business, BusinessLogo
from portal_gateway.models.customer import CreditBalance, CustomerAccount
from portal_gateway.models.idempotency import IdempotencyKey
from portal_gateway.models.invoice import Invoice, InvoiceLine
from portal_gateway.models.license_key import LicenseKey
from portal_gateway.models.outbox import OutboxMessage
from portal_gateway.models.payment import Payment
from portal_gateway.models.payment_method import PaymentMethod
from portal_gateway.models.portal_session import LinkToken, PortalSession
from portal_gateway.models.product import Product, ProductCollection
from portal_gateway.models.purchase import Purchase
from portal_gateway.models.renewal import RenewalClaim
from portal_gateway.models.subscription import Subscription

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Business",
    "BusinessLogo",
    "CreditBalance",
    "CustomerAccount",
    "IdempotencyKey",
    "Invoice",
    "InvoiceLine",
    "LicenseKey",
    "LinkToken",
    "OutboxMessage",
    "Payment",
    "PaymentMethod",
    "PortalSession",
    "Product",
    "ProductCollection",
    "Purchase",
    "RenewalClaim",
    "Subscription",
]
