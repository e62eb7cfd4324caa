"""Expected failures as members of a field's result union, mapped from domain errors in this
one place: a service raises, `ErrorsAsResults` answers with the member. Mutations also
get `FreshReads`: after their service committed, the payload reads the new state."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission

from portal_gateway.core import errors as domain
from portal_gateway.core.errors import AccessError
from portal_gateway.core.ids import encode_global_id
from portal_gateway.models.enums import SubscriptionStatus
from portal_gateway.resolvers.refusals import record_refusal
from portal_gateway.schema.context import Info
from portal_gateway.schema.nodes import related
from portal_gateway.schema.refs import PaymentRef


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


@strawberry.type(
    description="The processor declined the charge: a FAILED payment is recorded "
    "and nothing else changed."
)
class PaymentFailedError(Error):
    decline_code: str | None
    payment_id: strawberry.Private[str | None]

    @strawberry.field
    async def payment(self, info: Info) -> PaymentRef | None:
        return await related(info, "Payment", self.payment_id)


@strawberry.type(
    description="The card still pays for a subscription: give that subscription another card first."
)
class PaymentMethodInUseError(Error):
    subscription_ids: list[strawberry.ID]


def error_result(error: domain.DomainError) -> Error:
    """The union member for a domain error."""
    message, code = error.message, error.code
    if isinstance(error, domain.NotFoundError):
        return NotFoundError(message=message, code=code)
    if isinstance(error, domain.InvalidInputError):
        return InvalidInputError(message=message, code=code, field=error.field)
    if isinstance(error, domain.InvalidStateError):
        status = SubscriptionStatus(error.status) if error.status else None
        return InvalidStateError(message=message, code=code, status=status)
    if isinstance(error, domain.ConflictError):
        return ConflictError(message=message, code=code)
    if isinstance(error, domain.InvalidTokenError):
        return InvalidTokenError(message=message, code=code)
    if isinstance(error, domain.PlanChangeNotAllowedError):
        reason = PlanChangeNotAllowedReason(error.reason)
        return PlanChangeNotAllowedError(message=message, code=code, reason=reason)
    if isinstance(error, domain.RateLimitedError):
        retry = error.retry_after_seconds
        return RateLimitedError(message=message, code=code, retry_after_seconds=retry)
    if isinstance(error, domain.PaymentFailedError):
        return PaymentFailedError(
            message=message, code=code, decline_code=error.decline_code, payment_id=error.payment_id
        )
    if isinstance(error, domain.PaymentMethodInUseError):
        ids = [strawberry.ID(encode_global_id("Subscription", i)) for i in error.subscription_ids]
        return PaymentMethodInUseError(message=message, code=code, subscription_ids=ids)
    raise TypeError(f"no GraphQL error type for {type(error).__name__}")


class ErrorsAsResults(FieldExtension):
    """A domain error raised under the field becomes its union member. One that the union
    does not list is a bug, and Strawberry reports it as one."""

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except domain.DomainError as error:
            return error_result(error)


class FreshReads(FieldExtension):
    """After a mutation's service call (which committed, or failed after committing what it
    keeps), drop the request's loaded rows, so that the payload shows the new state."""

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        finally:
            await info.context.loaders.clear()


class Guarded(FieldExtension):
    """The field's permissions, checked before it runs; a refusal (UNAUTHENTICATED,
    FORBIDDEN) is recorded in the audit trail before it is answered."""

    def __init__(self, permissions: list[type[BasePermission]]) -> None:
        super().__init__()
        self.permissions = [permission() for permission in permissions]

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        for permission in self.permissions:
            try:
                if not permission.has_permission(source, info, **kwargs):
                    raise AccessError("FORBIDDEN", permission.message or "Not allowed.")
            except AccessError as refusal:
                await record_refusal(info.context, info.field_name, refusal.code)
                raise
        return await next_(source, info, **kwargs)


def mutation(
    resolver: Callable[..., Awaitable[Any]],
    *,
    description: str | None = None,
    permission_classes: list[type[BasePermission]] | None = None,
) -> Any:
    """A mutation field: who may call it is checked (and a refusal audited), its domain
    errors are union members, and its payload reads afresh."""
    guard = [Guarded(permission_classes)] if permission_classes else []
    return strawberry.mutation(
        resolver=resolver,
        description=description,
        extensions=[*guard, ErrorsAsResults(), FreshReads()],
    )
