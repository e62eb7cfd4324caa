"""What the portal needs from a payment processor, and nothing else."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from portal_gateway.core.cards import CardBrand

T = TypeVar("T")


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
    """The card behind a token was refused when saved (expired, declined): its decline code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UnknownToken(CardRefused):
    """Not a token the processor made: the input is wrong, not the card."""


# The decline code of `void` when nothing had been charged with the key, and now never will.
VOIDED = "voided"


class ProcessorTimeout(Exception):
    """The processor did not answer in time: what it did is unknown until asked again."""


class PaymentProcessor(Protocol):
    async def attach(self, token: str) -> CardDetails:
        """Turn a tokenized card into a saved payment method (raises CardRefused)."""
        ...

    async def detach(self, payment_method_ref: str) -> None:
        """Forget a saved card, so that nothing can charge it again; detaching one that is
        already detached succeeds (it is retried until it does)."""
        ...

    async def charge(
        self, payment_method_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Charge once per idempotency key: a repeat returns the first result, charging nothing."""
        ...

    async def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        """What became of a charge with this key; None if the processor never saw it."""
        ...

    async def void(self, idempotency_key: str) -> ChargeResult:
        """End the key: a charge that already landed with it is returned as it is; otherwise
        the answer is DECLINED with decline code VOIDED, and a charge with the key that
        arrives later is refused. So absence becomes a final answer, never a guess."""
        ...


class TimedProcessor:
    """A processor whose every call gives up after `seconds` (ProcessorTimeout), well under
    the time after which reconcile settles a charge left PENDING."""

    def __init__(self, processor: PaymentProcessor, seconds: float) -> None:
        self.processor = processor
        self.seconds = seconds

    async def _within(self, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self.seconds):
                return await call
        except TimeoutError:
            raise ProcessorTimeout from None

    async def attach(self, token: str) -> CardDetails:
        return await self._within(self.processor.attach(token))

    async def detach(self, payment_method_ref: str) -> None:
        await self._within(self.processor.detach(payment_method_ref))

    async def charge(
        self, payment_method_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        return await self._within(
            self.processor.charge(payment_method_ref, amount_minor, currency, idempotency_key)
        )

    async def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        return await self._within(self.processor.find_charge(idempotency_key))

    async def void(self, idempotency_key: str) -> ChargeResult:
        return await self._within(self.processor.void(idempotency_key))
