"""Domain errors: expected failures that the API turns into result-union members.

One base class, so callers can catch ours without catching bugs.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    """Absent or out of scope: the two are indistinguishable on purpose."""

    code = "NOT_FOUND"


class InvalidInputError(DomainError):
    code = "INVALID_INPUT"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        if code:
            self.code = code


class InvalidStateError(DomainError):
    code = "INVALID_STATE"

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


class ConflictError(DomainError):
    """Another change got there first, or is still under way (code PAYMENT_PENDING: a charge
    whose outcome the processor has not told yet)."""

    code = "CONFLICT"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class InvalidTokenError(DomainError):
    """A sign-in token that is unknown (TOKEN_INVALID), used or expired."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AccessError(Exception):
    """Refused at the door: wrong or missing credentials, or the wrong kind of principal.

    Raised to the GraphQL layer as a top-level error carrying `code`.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RequestInputError(AccessError):
    """A malformed argument that no result union can describe (BAD_USER_INPUT)."""

    def __init__(self, message: str) -> None:
        super().__init__("BAD_USER_INPUT", message)


class RateLimitedError(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"Too many attempts; try again in {retry_after_seconds} seconds.")
        self.retry_after_seconds = retry_after_seconds


class PlanChangeNotAllowedError(DomainError):
    """`reason` is one of DISABLED_BY_BUSINESS, DIFFERENT_COLLECTION,
    DIFFERENT_CURRENCY_OR_INTERVAL, SAME_PRODUCT, NOT_A_SUBSCRIPTION_PRODUCT."""

    code = "PLAN_CHANGE_NOT_ALLOWED"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PaymentFailedError(DomainError):
    """The processor declined (or failed): a FAILED payment is recorded, nothing else."""

    code = "PAYMENT_FAILED"

    def __init__(
        self, message: str, decline_code: str | None = None, payment_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.decline_code = decline_code
        self.payment_id = payment_id


class PaymentMethodInUseError(DomainError):
    """A saved card that a subscription which can still be charged pays with."""

    code = "PAYMENT_METHOD_IN_USE"

    def __init__(self, message: str, subscription_ids: list[str]) -> None:
        super().__init__(message)
        self.subscription_ids = subscription_ids
