"""Shared GraphQL shapes: Node, Money, Address, connections, errors, enums."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types import Info as StrawberryInfo

from portal_gateway.core import errors as domain
from portal_gateway.core.ids import encode_global_id
from portal_gateway.core.money import Money as MoneyValue
from portal_gateway.loaders.pagination import Page
from portal_gateway.models import enums
from portal_gateway.models.enums import (
    BillingInterval,
    CardBrand,
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
from portal_gateway.resolvers.context import Context

Info = StrawberryInfo[Context, None]

# The domain's enums serve as GraphQL enums as they are (strawberry.enum marks them in place).
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


@strawberry.interface
class Node:
    """An object with an opaque global id, fetchable with `node(id:)`."""

    @strawberry.field
    def id(self) -> strawberry.ID:
        raise NotImplementedError  # every implementing type resolves its own


def global_id(type_name: str, local_id: str) -> strawberry.ID:
    return strawberry.ID(encode_global_id(type_name, local_id))


@strawberry.type
class Money:
    amount: Decimal = strawberry.field(
        description='Exact decimal in major units: "12.50" USD, "1000" JPY.'
    )
    currency: str = strawberry.field(description="ISO 4217, upper case.")

    @classmethod
    def of(cls, minor: int, currency: str) -> Money:
        return cls(amount=MoneyValue(minor, currency).to_decimal(), currency=currency)


@strawberry.type
class Address:
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str | None = strawberry.field(
        description="Required where the country uses postal codes."
    )
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


N = TypeVar("N")


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        """Counted only when asked for."""
        return await self._count()

    @classmethod
    def of(cls, page: Page[Any], wrap: Callable[[Any], N]) -> Connection[N]:
        edges = [Edge(cursor=Page.cursor(row), node=wrap(row)) for row in page.rows]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            _count=page.count,
        )


def wrap_all(rows: Sequence[Any], wrap: Callable[[Any], N]) -> list[N]:
    return [wrap(row) for row in rows]


# ---- Errors: the expected failures of mutations, as union members ----


@strawberry.interface(name="Error")
class Error:
    message: str
    code: str = strawberry.field(
        description="Stable machine-readable code, e.g. NOT_FOUND, PAYMENT_FAILED."
    )


@strawberry.type
class NotFoundError(Error):
    pass


@strawberry.type
class InvalidInputError(Error):
    field: str | None = strawberry.field(
        description='The input field at fault, as a path like "billingAddress.country".'
    )


@strawberry.type(
    description="The subscription is in a status that does not allow this "
    "(e.g. cancelling a cancelled one)."
)
class InvalidStateError(Error):
    status: SubscriptionStatus | None


@strawberry.type(
    description="Another request changed the same thing at once, "
    "or an idempotency key was reused with other input."
)
class ConflictError(Error):
    pass


@strawberry.type(
    description="The sign-in token is unknown, used, or expired "
    "(code TOKEN_INVALID, TOKEN_USED, TOKEN_EXPIRED)."
)
class InvalidTokenError(Error):
    pass


@strawberry.type
class RateLimitedError(Error):
    retry_after_seconds: int


@strawberry.enum
class PlanChangeNotAllowedReason(enum.Enum):
    DISABLED_BY_BUSINESS = "DISABLED_BY_BUSINESS"
    DIFFERENT_COLLECTION = "DIFFERENT_COLLECTION"
    DIFFERENT_CURRENCY_OR_INTERVAL = "DIFFERENT_CURRENCY_OR_INTERVAL"
    SAME_PRODUCT = "SAME_PRODUCT"
    NOT_A_SUBSCRIPTION_PRODUCT = "NOT_A_SUBSCRIPTION_PRODUCT"


@strawberry.type(
    description="The move is not one this subscription may make. "
    "(A subscription that is not ACTIVE gets InvalidStateError.)"
)
class PlanChangeNotAllowedError(Error):
    reason: PlanChangeNotAllowedReason


def error_member(error: domain.DomainError) -> Any:
    """The union member for a domain error."""
    if isinstance(error, domain.NotFoundError):
        return NotFoundError(message=error.message, code=error.code)
    if isinstance(error, domain.InvalidInputError):
        return InvalidInputError(message=error.message, code=error.code, field=error.field)
    if isinstance(error, domain.InvalidStateError):
        status = enums.SubscriptionStatus(error.status) if error.status else None
        return InvalidStateError(message=error.message, code=error.code, status=status)
    if isinstance(error, domain.ConflictError):
        return ConflictError(message=error.message, code=error.code)
    if isinstance(error, domain.InvalidTokenError):
        return InvalidTokenError(message=error.message, code=error.code)
    if isinstance(error, domain.PlanChangeNotAllowedError):
        return PlanChangeNotAllowedError(
            message=error.message,
            code=error.code,
            reason=PlanChangeNotAllowedReason(error.reason),
        )
    if isinstance(error, domain.RateLimitedError):
        return RateLimitedError(
            message=error.message, code=error.code, retry_after_seconds=error.retry_after_seconds
        )
    raise TypeError(f"no GraphQL error type for {type(error).__name__}")
