"""The domain's enumerations, shared by models, services and the schema (card brands are in
core.cards: the processor interface uses them too)."""

from __future__ import annotations

import enum


class ProductType(enum.Enum):
    ONE_TIME = "ONE_TIME"
    SUBSCRIPTION = "SUBSCRIPTION"
    USAGE_BASED = "USAGE_BASED"


class BillingInterval(enum.Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


class SubscriptionStatus(enum.Enum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    ON_HOLD = "ON_HOLD"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


class RenewalStatus(enum.Enum):
    # Claimed and not yet paid: being charged, or waiting for the next run after a
    # processor error.
    CLAIMED = "CLAIMED"
    RENEWED = "RENEWED"
    # Declined: the subscription went ON_HOLD with the period's amount as dues.
    DECLINED = "DECLINED"


class PlanChangeDirection(enum.Enum):
    UPGRADE = "UPGRADE"
    DOWNGRADE = "DOWNGRADE"


class PurchaseStatus(enum.Enum):
    PAID = "PAID"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


class InvoiceStatus(enum.Enum):
    PAID = "PAID"
    OPEN = "OPEN"
    VOID = "VOID"


class PaymentStatus(enum.Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    REFUNDED = "REFUNDED"


class LicenseKeyStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    DISABLED = "DISABLED"


class PortalScope(enum.Enum):
    UNIFIED = "UNIFIED"
    BUSINESS = "BUSINESS"


class PortalFlowType(enum.Enum):
    PAYMENT_METHOD_UPDATE = "PAYMENT_METHOD_UPDATE"
    SUBSCRIPTION_CANCEL = "SUBSCRIPTION_CANCEL"
    SUBSCRIPTION_UPDATE = "SUBSCRIPTION_UPDATE"


class LinkKind(enum.Enum):
    """How a sign-in link came to be: that decides the scope it may carry."""

    EMAILED_UNIFIED = "EMAILED_UNIFIED"
    EMAILED_BUSINESS = "EMAILED_BUSINESS"
    DYNAMIC = "DYNAMIC"


class ApiKeyMode(enum.Enum):
    TEST = "test"
    LIVE = "live"


class OutboxStatus(enum.Enum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
