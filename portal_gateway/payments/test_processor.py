"""The deterministic test-mode processor. Its tokens:

| token                    | card             | a charge                      |
| ------------------------ | ---------------- | ----------------------------- |
| `tok_visa`               | VISA 4242        | succeeds                      |
| `tok_mastercard`         | MASTERCARD 4444  | succeeds                      |
| `tok_declined`           | VISA 0002        | declined `card_declined`      |
| `tok_insufficient_funds` | VISA 9995        | declined `insufficient_funds` |
| `tok_processing_error`   | VISA 0119        | processor error (retryable)   |
| `tok_expired`            | VISA 0069        | refused when saved: `expired_card` |

A saved card's reference names its token (`pm_tok_visa_…`); references it
did not make (seeded data) charge like `tok_visa`. Its ledger is a table, so
that it remembers charges (and detached cards, which it then refuses to charge) across
restarts as a real processor does. In live
mode it refuses everything: test cards never move real money.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal_gateway.core.cards import CardBrand
from portal_gateway.db import Database
from portal_gateway.models.base import Base, created_at_column, currency_column, money_column
from portal_gateway.payments.processor import (
    VOIDED,
    CardDetails,
    CardRefused,
    ChargeOutcome,
    ChargeResult,
    UnknownToken,
)


class TestProcessorCharge(Base):
    """The test processor's own ledger: like a real processor it remembers every charge by
    its idempotency key, across restarts, so that a crash after charging is settled by
    asking it (`billing reconcile`) and a retried charge is never taken twice. Beside the
    processor, not among the models: nothing but the test processor reads it."""

    __tablename__ = "test_processor_charges"
    __test__ = False  # a name pytest would otherwise try to collect

    idempotency_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_method_ref: Mapped[str] = mapped_column(String(255))
    amount_minor: Mapped[int] = money_column()
    currency: Mapped[str] = currency_column()
    # "succeeded", "declined" or "error"; "detached" for a card's detach record, whose key
    # is DETACHED_PREFIX and the card's reference
    outcome: Mapped[str] = mapped_column(String(16))
    decline_code: Mapped[str | None] = mapped_column(String(64))
    charge_ref: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()


@dataclass(frozen=True)
class TestCard:
    __test__ = False

    brand: CardBrand
    last4: str
    outcome: ChargeOutcome
    decline_code: str | None = None


TEST_CARDS: dict[str, TestCard] = {
    "tok_visa": TestCard(CardBrand.VISA, "4242", ChargeOutcome.SUCCEEDED),
    "tok_mastercard": TestCard(CardBrand.MASTERCARD, "4444", ChargeOutcome.SUCCEEDED),
    "tok_declined": TestCard(CardBrand.VISA, "0002", ChargeOutcome.DECLINED, "card_declined"),
    "tok_insufficient_funds": TestCard(
        CardBrand.VISA, "9995", ChargeOutcome.DECLINED, "insufficient_funds"
    ),
    "tok_processing_error": TestCard(
        CardBrand.VISA, "0119", ChargeOutcome.ERROR, "processing_error"
    ),
}

# Refused when saved, with this decline code: never a saved card.
REFUSED_TOKENS: dict[str, str] = {"tok_expired": "expired_card"}
DETACHED_PREFIX = "detach:"
DETACHED = "detached"

_MESSAGES = {
    "card_declined": "The card was declined.",
    "insufficient_funds": "The card has insufficient funds.",
    "processing_error": "The processor could not process the charge; try again.",
    "expired_card": "The card has expired.",
    "card_detached": "The card was removed.",
    VOIDED: "The charge was voided before it was made.",
}


def card_of(payment_method_ref: str) -> TestCard:
    for token, card in TEST_CARDS.items():
        if payment_method_ref.startswith(f"pm_{token}_"):
            return card
    return TEST_CARDS["tok_visa"]


class TestProcessor:
    __test__ = False

    def __init__(self, db: Database, *, live: bool) -> None:
        self.db = db
        self.live = live

    async def attach(self, token: str) -> CardDetails:
        if self.live:
            raise CardRefused("test_mode_card", "Test cards are refused in live mode.")
        if token in REFUSED_TOKENS:
            code = REFUSED_TOKENS[token]
            raise CardRefused(code, _MESSAGES[code])
        card = TEST_CARDS.get(token)
        if card is None:
            raise UnknownToken("invalid_token", "This card token is not known to the processor.")
        return CardDetails(
            processor_ref=f"pm_{token}_{uuid.uuid4().hex[:16]}",
            brand=card.brand,
            last4=card.last4,
            exp_month=12,
            exp_year=2034,
        )

    async def charge(
        self, payment_method_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        if self.live:
            return ChargeResult(ChargeOutcome.DECLINED, None, "test_mode_card", "Live mode.")
        if (earlier := await self.find_charge(idempotency_key)) is not None:
            return earlier
        if await self.is_detached(payment_method_ref):
            return ChargeResult(
                ChargeOutcome.DECLINED, None, "card_detached", _MESSAGES["card_detached"]
            )
        card = card_of(payment_method_ref)
        if card.outcome is ChargeOutcome.ERROR:
            # Nothing is charged and nothing recorded: the same key may succeed later.
            return ChargeResult(
                ChargeOutcome.ERROR, None, card.decline_code, _MESSAGES["processing_error"]
            )
        return await self._first(
            TestProcessorCharge(
                idempotency_key=idempotency_key,
                payment_method_ref=payment_method_ref,
                amount_minor=amount_minor,
                currency=currency,
                outcome=card.outcome.value,
                decline_code=card.decline_code,
                charge_ref=f"ch_test_{uuid.uuid4().hex[:16]}",
            )
        )

    async def detach(self, payment_method_ref: str) -> None:
        if self.live:  # live mode never saved a test card
            return
        try:
            async with self.db.transaction() as session:
                session.add(
                    TestProcessorCharge(
                        idempotency_key=DETACHED_PREFIX + payment_method_ref[:56],
                        payment_method_ref=payment_method_ref,
                        amount_minor=0,
                        currency="XXX",
                        outcome=DETACHED,
                        charge_ref="",
                    )
                )
        except IntegrityError:
            pass  # detached before: detaching again succeeds

    async def is_detached(self, payment_method_ref: str) -> bool:
        async with self.db.read_sessions() as session:
            found = await session.scalar(
                select(TestProcessorCharge.idempotency_key).where(
                    TestProcessorCharge.idempotency_key == DETACHED_PREFIX + payment_method_ref[:56]
                )
            )
        return found is not None

    async def void(self, idempotency_key: str) -> ChargeResult:
        if self.live:  # nothing is ever charged in live mode
            return ChargeResult(ChargeOutcome.DECLINED, None, VOIDED, _MESSAGES[VOIDED])
        return await self._first(
            TestProcessorCharge(
                idempotency_key=idempotency_key,
                payment_method_ref="",
                amount_minor=0,
                currency="XXX",
                outcome=ChargeOutcome.DECLINED.value,
                decline_code=VOIDED,
                charge_ref=f"void_test_{uuid.uuid4().hex[:16]}",
            )
        )

    async def _first(self, row: TestProcessorCharge) -> ChargeResult:
        """Record `row` unless its key has a record already: the first word on a key stands
        (a charge after a void is refused, a void after a charge returns the charge)."""
        try:
            async with self.db.transaction() as session:
                session.add(row)
        except IntegrityError:
            earlier = await self.find_charge(row.idempotency_key)
            assert earlier is not None
            return earlier
        return _result(row)

    async def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        async with self.db.read_sessions() as session:
            row = await session.scalar(
                select(TestProcessorCharge).where(
                    TestProcessorCharge.idempotency_key == idempotency_key
                )
            )
        return _result(row) if row is not None else None


def _result(row: TestProcessorCharge) -> ChargeResult:
    outcome = ChargeOutcome(row.outcome)
    return ChargeResult(
        outcome,
        row.charge_ref if outcome is ChargeOutcome.SUCCEEDED else None,
        row.decline_code,
        _MESSAGES.get(row.decline_code or ""),
    )
