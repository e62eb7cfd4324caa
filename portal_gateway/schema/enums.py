"""The domain's enums, served as GraphQL enums as they are (strawberry.enum marks them in place)."""

from __future__ import annotations

import strawberry

from portal_gateway.core.cards import CardBrand
from portal_gateway.models.enums import (
    BillingInterval,
    InvoiceStatus,
    LicenseKeyStatus,
    PaymentStatus,
    PlanChangeDirection,
    PortalFlowType,
    PortalScope,
    ProductType,
    PurchaseStatus,
    SubscriptionStatus,
)

for _enum in (
    ProductType,
    BillingInterval,
    SubscriptionStatus,
    PlanChangeDirection,
    PurchaseStatus,
    InvoiceStatus,
    PaymentStatus,
    LicenseKeyStatus,
    CardBrand,
    PortalScope,
    PortalFlowType,
):
    strawberry.enum(_enum)
