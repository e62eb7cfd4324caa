"""What the portal needs from a payment processor, and nothing else."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from portal_gateway.core.cards import CardBrand


class ChargeOutcome(enum.Enum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    # The processor failed; nothing was charged, and the same key may be tried again.
    ERROR = "error"


@dataclass(frozen=True)
class CardDetails:
    processor_ref: str
    brand: CardBrand
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    outcome: ChargeOutcome
    charge_ref: str | None = None
    decline_code: str | None = None
    message: str | None = None


class CardRefused(Exception):
    """A token the processor will not turn into a saved card (unknown, or declined)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PaymentProcessor(Protocol):
    async def attach(self, token: str) -> CardDetails:
        """Turn a tokenized card into a saved payment method (raises CardRefused)."""
        ...

    async def charge(
        self, payment_method_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Charge once per idempotency key: a repeat returns the first result, charging nothing."""
        ...

    async def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        """What became of a charge with this key; None if the processor never saw it."""
        ...
