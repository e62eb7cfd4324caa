"""What a PENDING plan-change payment pays for, kept on the payment as JSON, so that whoever
settles it (the request that charged, or reconciliation after a crash) can finish the work
exactly as it was quoted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal_gateway.services.invoices import LineDraft
from portal_gateway.services.proration import PlanChangeQuote


@dataclass(frozen=True)
class PlanChangeDetails:
    product_id: str
    direction: str
    quote: PlanChangeQuote
    idempotency_key: str | None

    def to_json(self) -> dict[str, Any]:
        quote = self.quote
        return {
            "kind": "plan_change",
            "product_id": self.product_id,
            "direction": self.direction,
            "idempotency_key": self.idempotency_key,
            "currency": quote.currency,
            "amount_due_minor": quote.amount_due_minor,
            "credit_used_minor": quote.credit_used_minor,
            "credit_added_minor": quote.credit_added_minor,
            "lines": [line.to_json() for line in quote.lines],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanChangeDetails:
        first, second = (LineDraft.from_json(line) for line in data["lines"])
        quote = PlanChangeQuote(
            (first, second),
            data["currency"],
            data["amount_due_minor"],
            data["credit_used_minor"],
            data["credit_added_minor"],
        )
        return cls(data["product_id"], data["direction"], quote, data.get("idempotency_key"))
